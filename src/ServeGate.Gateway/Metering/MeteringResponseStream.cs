using System.Buffers;

namespace ServeGate.Gateway.Metering;

/// <summary>
/// Sits between the endpoint (in-process worker or proxy) and the client's response body, reading usage as it passes.
/// Server-sent events are forwarded event by event as soon as each is complete (no buffering beyond one event); the
/// final usage chunk the gateway asked for on the client's behalf is read and removed. Other bodies are forwarded at
/// once and copied (up to a bound) to read their usage at the end.
/// </summary>
internal sealed class MeteringResponseStream(Stream inner, Func<bool> isEventStream, Func<bool> forwardUsageChunk, ResponseUsage usage, TimeProvider time) : Stream
{
    private const int MaxBodyCopy = 4 * 1024 * 1024;

    private readonly ArrayBufferWriter<byte> _pending = new();
    private readonly ArrayBufferWriter<byte> _output = new(); // reused: writes to a stream never overlap
    private bool? _sse;

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

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>At the end of the response: forwards a trailing partial event, reads a non-streaming body's usage.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        if (_sse == true && _pending.WrittenCount > 0)
        {
            await inner.WriteAsync(_pending.WrittenMemory, cancellationToken).ConfigureAwait(false);
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
            if (_pending.WrittenCount + data.Length <= MaxBodyCopy)
            {
                _pending.Write(data.Span);
            }

            return data;
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
            if (!IsDroppedUsageChunk(sseEvent))
            {
                output.Write(sseEvent);
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

    private bool IsDroppedUsageChunk(ReadOnlySpan<byte> sseEvent)
    {
        var isUsageChunk = false;
        var now = time.GetTimestamp();
        foreach (var range in sseEvent.Split((byte)'\n'))
        {
            var line = sseEvent[range];
            if (line.StartsWith("data:"u8))
            {
                var payload = line[5..].TrimStart((byte)' ');
                if (!payload.SequenceEqual("[DONE]"u8) && usage.ReadChunk(payload, now))
                {
                    isUsageChunk = true;
                }
            }
        }

        return isUsageChunk && !forwardUsageChunk();
    }
}
