using System.Buffers;

namespace ServeGate.Gateway.Metering;

/// <summary>
/// Sits between the endpoint (in-process worker or proxy) and the client's response body, reading usage as it passes.
/// Server-sent events are forwarded event by event as soon as each is complete (no buffering beyond one event); the
/// final usage chunk the gateway asked for on the client's behalf is read and removed. Other bodies are forwarded and
/// copied (up to a bound) to read their usage at the end. The end of the response (a stream's usage chunk and
/// <c>[DONE]</c>, another body's last write) is held until <see cref="ReleaseAsync"/>: the record is durable first.
/// </summary>
internal sealed class MeteringResponseStream(Stream inner, Func<bool> isEventStream, Func<bool> forwardUsageChunk, ResponseUsage usage, TimeProvider time) : Stream
{
    private const int MaxBodyCopy = 4 * 1024 * 1024;

    private readonly ArrayBufferWriter<byte> _pending = new();
    private readonly ArrayBufferWriter<byte> _output = new(); // reused: writes to a stream never overlap
    private readonly ArrayBufferWriter<byte> _held = new();
    private bool? _sse;
    private bool _holding; // a stream reached its usage chunk or [DONE]: what follows is held

    /// <summary>When the first byte went to the client.</summary>
    public long? FirstByteTimestamp { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var forward = Accept(buffer);
        if (!forward.IsEmpty)
        {
            FirstByteTimestamp ??= time.GetTimestamp();
            await inner.WriteAsync(forward, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends what was held back (the end of the response), once its usage record is durable.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (_held.WrittenCount > 0)
        {
            await inner.WriteAsync(_held.WrittenMemory, cancellationToken).ConfigureAwait(false);
            _held.Clear();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>At the end of the body: holds a trailing partial event, reads a non-streaming body's usage.</summary>
    public void Finish()
    {
        if (_sse == true && _pending.WrittenCount > 0)
        {
            _held.Write(_pending.WrittenSpan);
            _pending.Clear();
        }
        else if (_sse == false && _pending.WrittenCount > 0)
        {
            usage.ReadBody(new ReadOnlySequence<byte>(_pending.WrittenMemory));
        }
    }

    /// <summary>Takes written bytes; returns what to send on now (valid until the next write).</summary>
    private ReadOnlyMemory<byte> Accept(ReadOnlyMemory<byte> data)
    {
        _sse ??= isEventStream();
        if (_sse == false)
        {
            FirstByteTimestamp ??= time.GetTimestamp();
            if (_pending.WrittenCount + data.Length <= MaxBodyCopy)
            {
                _pending.Write(data.Span);
            }

            // Hold this write, send the one held before: the last write waits for ReleaseAsync.
            var previous = _output;
            previous.ResetWrittenCount();
            previous.Write(_held.WrittenSpan);
            _held.ResetWrittenCount();
            _held.Write(data.Span);
            return previous.WrittenMemory;
        }

        _pending.Write(data.Span);
        var output = _output;
        output.ResetWrittenCount();
        var pending = _pending.WrittenSpan;
        var consumed = 0;
        while (true)
        {
            var end = pending[consumed..].IndexOf("\n\n"u8);
            if (end < 0)
            {
                break;
            }

            var sseEvent = pending.Slice(consumed, end + 2);
            consumed += end + 2;
            if (_holding)
            {
                _held.Write(sseEvent);
                continue;
            }

            var (isUsage, isDone) = Inspect(sseEvent);
            _holding = isUsage || isDone;
            if (!isUsage || forwardUsageChunk())
            {
                (_holding ? _held : output).Write(sseEvent);
            }
        }

        if (consumed == pending.Length)
        {
            _pending.ResetWrittenCount(); // the usual case: writes end on event boundaries
        }
        else if (consumed > 0)
        {
            var rest = pending[consumed..].ToArray();
            _pending.Clear();
            _pending.Write(rest);
        }

        return output.WrittenMemory;
    }

    /// <summary>Reads an event: whether it is the final usage chunk, or <c>[DONE]</c>.</summary>
    private (bool IsUsage, bool IsDone) Inspect(ReadOnlySpan<byte> sseEvent)
    {
        var isUsageChunk = false;
        var isDone = false;
        var now = time.GetTimestamp();
        foreach (var range in sseEvent.Split((byte)'\n'))
        {
            var line = sseEvent[range];
            if (line.StartsWith("data:"u8))
            {
                var payload = line[5..].TrimStart((byte)' ');
                if (payload.SequenceEqual("[DONE]"u8))
                {
                    isDone = true;
                }
                else if (usage.ReadChunk(payload, now))
                {
                    isUsageChunk = true;
                }
            }
        }

        return (isUsageChunk, isDone);
    }
}
