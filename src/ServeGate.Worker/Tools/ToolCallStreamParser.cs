namespace ServeGate.Worker.Tools;

/// <summary>
/// Reads an answer with tools as it is generated and says, as early as it is known, what the client may see: text
/// that cannot start a <c>&lt;tool_call&gt;</c> is content at once (only a possible opening tag and the whitespace
/// before it wait); a block that begins <c>{"name": a tool, "arguments": {</c> opens a call, whose arguments then
/// pass through as they arrive. Other blocks wait for their <c>&lt;/tool_call&gt;</c> and go through
/// <see cref="ToolPromptFormat"/>'s parser, a call sent whole or else content. As in the non-streamed answer, content
/// is only the text before the first call, and without parallel calls everything after the first call is dropped.
/// One pass over the text, unlike llama.cpp's server, which parses the whole text again after every token and sends
/// the difference (docs/architecture.md, "Structured output and tool calls").
/// </summary>
internal sealed class ToolCallStreamParser(IReadOnlyList<ToolFunction> functions, bool parallel)
{
    private const string CallStart = ToolPromptFormat.CallStart;
    private const string CallEnd = ToolPromptFormat.CallEnd;

    private string _buffer = string.Empty;
    private State _state;
    private int _depth;
    private bool _inString;
    private bool _escaped;

    private enum State
    {
        /// <summary>Outside a block: content before the first call, dropped after it.</summary>
        Text,

        /// <summary>A block's start (whitespace and <c>&lt;tool_call&gt;</c> first) until the call's name and arguments are seen.</summary>
        Header,

        /// <summary>A block not in the usual shape, held whole until <c>&lt;/tool_call&gt;</c>.</summary>
        Block,

        /// <summary>An opened call's arguments object, passed through.</summary>
        Arguments,

        /// <summary>After the arguments, until the block's end.</summary>
        Tail,

        /// <summary>The one call allowed has ended: the rest is dropped.</summary>
        Done,
    }

    /// <summary>How many calls were opened (sent to the client) so far.</summary>
    public int CallCount { get; private set; }

    /// <summary>Whether the last opened call's arguments have not ended (a generation cut off there left it partial).</summary>
    public bool InsideCall => _state == State.Arguments;

    /// <summary>Reads the next generated text and adds what may be sent now to <paramref name="output"/>.</summary>
    public void Push(string text, List<ToolStreamDelta> output)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(output);
        _buffer += text;
        while (Step(output))
        {
        }
    }

    /// <summary>
    /// Generation ended: held text is content when the model stopped, and dropped when it was cut off by the token
    /// limit (a block begun there is not a call).
    /// </summary>
    public void End(bool cutOff, List<ToolStreamDelta> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_state == State.Text || (!cutOff && _state is State.Header or State.Block))
        {
            Say(_buffer, output);
        }

        _buffer = string.Empty;
        _state = _state == State.Arguments ? State.Arguments : State.Done;
    }

    /// <summary>One step of the state machine; false when it needs more text.</summary>
    private bool Step(List<ToolStreamDelta> output)
    {
        switch (_state)
        {
            case State.Text:
                return ReadText(output);
            case State.Header:
                return ReadHeader(output);
            case State.Block:
                return ReadBlock(output);
            case State.Arguments:
                return ReadArguments(output);
            case State.Tail:
                return ReadTail();
            default:
                _buffer = string.Empty;
                return false;
        }
    }

    private bool ReadText(List<ToolStreamDelta> output)
    {
        var start = _buffer.IndexOf(CallStart, StringComparison.Ordinal);
        if (start >= 0)
        {
            // The whitespace before a block belongs to it: dropped with a call, content again if the block is not one.
            var blockStart = WhitespaceStart(_buffer, start);
            Say(_buffer[..blockStart], output);
            _buffer = _buffer[blockStart..];
            _state = State.Header;
            return true;
        }

        var held = WhitespaceStart(_buffer, _buffer.Length - ToolPromptFormat.OpeningTagPrefixLength(_buffer));
        Say(_buffer[..held], output);
        _buffer = _buffer[held..];
        return false;
    }

    private bool ReadHeader(List<ToolStreamDelta> output)
    {
        var header = new HeaderReader(_buffer);
        var result = header.Read(out var name, out var argumentsStart);
        if (result == HeaderResult.More)
        {
            return false;
        }

        if (result == HeaderResult.Call && functions.Any(f => f.Name == name))
        {
            Open(name!, output);
            _buffer = _buffer[argumentsStart..];
            _state = State.Arguments;
            _depth = 0;
            _inString = false;
            _escaped = false;
            return true;
        }

        _state = State.Block;
        return true;
    }

    private bool ReadBlock(List<ToolStreamDelta> output)
    {
        var start = _buffer.IndexOf(CallStart, StringComparison.Ordinal);
        var end = _buffer.IndexOf(CallEnd, start + CallStart.Length, StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        var block = _buffer[..(end + CallEnd.Length)];
        _buffer = _buffer[block.Length..];
        var call = ToolPromptFormat.ParseCall(block[(start + CallStart.Length)..end].Trim(), functions);
        if (call is null)
        {
            Say(block, output);
            _state = State.Text;
            return true;
        }

        Open(call.Name, output);
        output.Add(ToolStreamDelta.Fragment(CallCount - 1, call.Arguments));
        _state = parallel ? State.Text : State.Done;
        return true;
    }

    private bool ReadArguments(List<ToolStreamDelta> output)
    {
        var end = -1;
        for (var i = 0; i < _buffer.Length && end < 0; i++)
        {
            var c = _buffer[i];
            if (_inString)
            {
                if (_escaped)
                {
                    _escaped = false;
                }
                else if (c == '\\')
                {
                    _escaped = true;
                }
                else if (c == '"')
                {
                    _inString = false;
                }
            }
            else if (c == '"')
            {
                _inString = true;
            }
            else if (c is '{' or '[')
            {
                _depth++;
            }
            else if (c is '}' or ']' && --_depth == 0)
            {
                end = i + 1;
            }
        }

        var sent = end < 0 ? _buffer.Length : end;
        if (end < 0 && sent > 0 && char.IsHighSurrogate(_buffer[sent - 1]))
        {
            // Never split a surrogate pair between two fragments.
            sent--;
        }

        if (sent > 0)
        {
            output.Add(ToolStreamDelta.Fragment(CallCount - 1, _buffer[..sent]));
        }

        _buffer = _buffer[sent..];
        if (end < 0)
        {
            return false;
        }

        _state = State.Tail;
        return true;
    }

    /// <summary>Skips the rest of a block after its arguments (its closing brace, and anything a model adds) up to its end tag.</summary>
    private bool ReadTail()
    {
        var end = _buffer.IndexOf(CallEnd, StringComparison.Ordinal);
        var next = _buffer.IndexOf(CallStart, StringComparison.Ordinal);
        if (next >= 0 && (end < 0 || next < end))
        {
            // A new block without the end tag of the last one.
            _buffer = _buffer[next..];
        }
        else if (end >= 0)
        {
            _buffer = _buffer[(end + CallEnd.Length)..];
        }
        else
        {
            // Keep only what may still be the start of a tag.
            _buffer = _buffer[^Math.Min(_buffer.Length, CallEnd.Length - 1)..];
            return false;
        }

        _state = parallel ? State.Text : State.Done;
        return true;
    }

    private void Open(string name, List<ToolStreamDelta> output)
    {
        output.Add(ToolStreamDelta.Open(CallCount, ToolPromptFormat.NewCallId(), name));
        CallCount++;
    }

    /// <summary>Content, which is only the text before the first call.</summary>
    private void Say(string text, List<ToolStreamDelta> output)
    {
        if (text.Length > 0 && CallCount == 0)
        {
            output.Add(ToolStreamDelta.Text(text));
        }
    }

    /// <summary>Where the run of whitespace that ends at <paramref name="end"/> begins.</summary>
    private static int WhitespaceStart(string text, int end)
    {
        while (end > 0 && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }

        return end;
    }

    private enum HeaderResult
    {
        More,
        Call,
        Other,
    }

    /// <summary>
    /// Reads <c>ws &lt;tool_call&gt; ws { ws "name" ws : ws "NAME" ws , ws "arguments" ws : ws {</c>, the shape the
    /// prompt asks for and the grammar forces, as far as the text goes.
    /// </summary>
    private ref struct HeaderReader(string text)
    {
        private int _position;

        public HeaderResult Read(out string? name, out int argumentsStart)
        {
            name = null;
            argumentsStart = 0;
            var result = Expect(CallStart);
            result = result == HeaderResult.Call ? Expect("{") : result;
            result = result == HeaderResult.Call ? Expect("\"name\"") : result;
            result = result == HeaderResult.Call ? Expect(":") : result;
            result = result == HeaderResult.Call ? ReadName(out name) : result;
            result = result == HeaderResult.Call ? Expect(",") : result;
            result = result == HeaderResult.Call ? Expect("\"arguments\"") : result;
            result = result == HeaderResult.Call ? Expect(":") : result;
            if (result != HeaderResult.Call)
            {
                return result;
            }

            SkipWhitespace();
            if (_position == text.Length)
            {
                return HeaderResult.More;
            }

            argumentsStart = _position;
            return text[_position] == '{' ? HeaderResult.Call : HeaderResult.Other;
        }

        /// <summary>Whitespace, then <paramref name="literal"/>.</summary>
        private HeaderResult Expect(string literal)
        {
            SkipWhitespace();
            for (var i = 0; i < literal.Length; i++, _position++)
            {
                if (_position == text.Length)
                {
                    return HeaderResult.More;
                }

                if (text[_position] != literal[i])
                {
                    return HeaderResult.Other;
                }
            }

            return HeaderResult.Call;
        }

        /// <summary>Whitespace, then a JSON string without escapes (tool names are letters, digits, <c>_</c> and <c>-</c>).</summary>
        private HeaderResult ReadName(out string? name)
        {
            name = null;
            var result = Expect("\"");
            if (result != HeaderResult.Call)
            {
                return result;
            }

            var end = text.IndexOf('"', _position);
            var escape = text.IndexOf('\\', _position);
            if (escape >= 0 && (end < 0 || escape < end))
            {
                return HeaderResult.Other;
            }

            if (end < 0)
            {
                return HeaderResult.More;
            }

            name = text[_position..end];
            _position = end + 1;
            return HeaderResult.Call;
        }

        private void SkipWhitespace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                _position++;
            }
        }
    }
}
