using System.Security.Cryptography;
using System.Text;
using ServeGate.Core.OpenAi;

namespace ServeGate.Worker.Api.Responses;

/// <summary>
/// Builds a response from what the chat completion produced (text, tool calls, finish reason, usage), and the stream
/// events that announce each step as OpenAI's Responses API sends them: the message item and its text part opened
/// before the first text delta and closed before the first call; each call an item of its own, its arguments in
/// deltas; <c>response.completed</c> (or <c>response.incomplete</c> at the token limit) last, with the usage.
/// </summary>
internal sealed class ResponseBuilder(ResponsesRequest request, string id, long createdAt, string model)
{
    private readonly List<Item> _items = [];
    private readonly Dictionary<int, Item> _calls = [];
    private Item? _message;
    private int _sequence;

    public string Id => id;

    public IEnumerable<ResponseStreamEvent> Start()
    {
        yield return Lifecycle("response.created", "in_progress");
        yield return Lifecycle("response.in_progress", "in_progress");
    }

    public IEnumerable<ResponseStreamEvent> Text(string delta)
    {
        if (delta.Length == 0)
        {
            yield break;
        }

        if (_message is null)
        {
            _message = new Item("message", "msg_" + NewId());
            _items.Add(_message);
            yield return Event("response.output_item.added") with { OutputIndex = _message.Index(_items), Item = _message.ToWire("in_progress") };
            yield return Event("response.content_part.added") with { ItemId = _message.Id, OutputIndex = _message.Index(_items), ContentIndex = 0, Part = new ResponseOutputText { Text = string.Empty } };
        }

        _message.Content.Append(delta);
        yield return Event("response.output_text.delta") with { ItemId = _message.Id, OutputIndex = _message.Index(_items), ContentIndex = 0, Delta = delta, Logprobs = [] };
    }

    public IEnumerable<ResponseStreamEvent> ToolCallStart(int index, string callId, string name)
    {
        foreach (var e in CloseOpen("completed"))
        {
            yield return e;
        }

        var call = new Item("function_call", "fc_" + NewId()) { CallId = callId, Name = name };
        _calls[index] = call;
        _items.Add(call);
        yield return Event("response.output_item.added") with { OutputIndex = call.Index(_items), Item = call.ToWire("in_progress") };
    }

    public IEnumerable<ResponseStreamEvent> ToolCallArguments(int index, string delta)
    {
        if (delta.Length == 0 || !_calls.TryGetValue(index, out var call))
        {
            yield break;
        }

        call.Content.Append(delta);
        yield return Event("response.function_call_arguments.delta") with { ItemId = call.Id, OutputIndex = call.Index(_items), Delta = delta };
    }

    /// <summary>Closes what is open and ends the response: incomplete when the chat finished for <c>length</c>.</summary>
    public IEnumerable<ResponseStreamEvent> Finish(string? finishReason, Usage? usage)
    {
        var incomplete = finishReason == "length";
        foreach (var e in CloseOpen(incomplete ? "incomplete" : "completed"))
        {
            yield return e;
        }

        yield return Event(incomplete ? "response.incomplete" : "response.completed") with { Response = Snapshot(incomplete ? "incomplete" : "completed", usage) };
    }

    /// <summary>The generation failed after the stream began.</summary>
    public IEnumerable<ResponseStreamEvent> Fail(ApiError error)
    {
        foreach (var e in CloseOpen("incomplete"))
        {
            yield return e;
        }

        yield return Event("response.failed") with
        {
            Response = Snapshot("failed", null) with { Error = new ResponseError { Code = error.Code ?? "server_error", Message = error.Message } },
        };
    }

    public ResponseObject Snapshot(string status, Usage? usage) => new()
    {
        Id = id,
        CreatedAt = createdAt,
        Status = status,
        Model = model,
        Output = [.. _items.Select(i => i.ToWire(i.Status ?? (status == "in_progress" ? "in_progress" : "incomplete")))],
        IncompleteDetails = status == "incomplete" ? new ResponseIncompleteDetails { Reason = "max_output_tokens" } : null,
        Instructions = request.Instructions,
        MaxOutputTokens = request.MaxOutputTokens,
        Temperature = request.Temperature ?? 1f,
        TopP = request.TopP ?? 1f,
        ParallelToolCalls = request.ParallelToolCalls,
        Text = request.Text,
        ToolChoice = request.ToolChoice,
        Tools = request.Tools,
        Metadata = request.Metadata,
        User = request.User,
        Usage = usage is null ? null : ResponsesUsage.From(usage),
    };

    /// <summary>Ends every open item with <paramref name="status"/> (<c>completed</c>, or <c>incomplete</c> when cut off).</summary>
    private IEnumerable<ResponseStreamEvent> CloseOpen(string status)
    {
        foreach (var item in _items.Where(i => i.Status is null))
        {
            item.Status = status;
            var index = item.Index(_items);
            if (item.Type == "message")
            {
                var text = item.Content.ToString();
                yield return Event("response.output_text.done") with { ItemId = item.Id, OutputIndex = index, ContentIndex = 0, Text = text, Logprobs = [] };
                yield return Event("response.content_part.done") with { ItemId = item.Id, OutputIndex = index, ContentIndex = 0, Part = new ResponseOutputText { Text = text } };
            }
            else
            {
                yield return Event("response.function_call_arguments.done") with { ItemId = item.Id, OutputIndex = index, Arguments = item.Content.ToString(), Name = item.Name };
            }

            yield return Event("response.output_item.done") with { OutputIndex = index, Item = item.ToWire(status) };
        }

        _message = null;
    }

    private ResponseStreamEvent Lifecycle(string type, string status) => Event(type) with { Response = Snapshot(status, null) };

    private ResponseStreamEvent Event(string type) => new() { Type = type, SequenceNumber = _sequence++ };

    private static string NewId() => RandomNumberGenerator.GetHexString(24, lowercase: true);

    /// <summary>An output item being built.</summary>
    private sealed class Item(string type, string id)
    {
        public string Type { get; } = type;

        public string Id { get; } = id;

        public string? CallId { get; init; }

        public string? Name { get; init; }

        /// <summary>A message's text, or a call's arguments.</summary>
        public StringBuilder Content { get; } = new();

        /// <summary>How the item ended; null while it is open.</summary>
        public string? Status { get; set; }

        public int Index(List<Item> items) => items.IndexOf(this);

        public ResponseOutputItem ToWire(string status) => Type == "message"
            ? new ResponseOutputItem { Type = Type, Id = Id, Status = status, Role = "assistant", Content = status == "in_progress" && Content.Length == 0 ? [] : [new ResponseOutputText { Text = Content.ToString() }] }
            : new ResponseOutputItem { Type = Type, Id = Id, Status = status, CallId = CallId, Name = Name, Arguments = Content.ToString() };
    }
}
