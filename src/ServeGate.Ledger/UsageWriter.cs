using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ServeGate.Ledger;

/// <summary>
/// Takes usage records off the request path: a bounded <see cref="Channel{T}"/> with one reader that appends them to
/// the <see cref="IUsageStore"/> in batches. <see cref="MeteringOptions.FullMode"/> says what a full queue does. On
/// shutdown the channel is completed and drained, so records of requests that finished are never lost; the web server
/// stops before this service (ASP.NET starts it last), so requests in flight finish and enqueue first.
/// </summary>
public sealed partial class UsageWriter : IHostedService, IAsyncDisposable
{
    private readonly Channel<UsageRecord> _channel;
    private readonly IUsageStore _store;
    private readonly MeteringOptions _options;
    private readonly ILogger<UsageWriter> _logger;
    private Task? _reader;
    private long _dropped;
    private long _written;

    public UsageWriter(IUsageStore store, IOptions<MeteringOptions> options, ILogger<UsageWriter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options.Value;
        _logger = logger;
        _channel = Channel.CreateBounded<UsageRecord>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = _options.FullMode == UsageQueueFullMode.Drop ? BoundedChannelFullMode.DropWrite : BoundedChannelFullMode.Wait,
        }, _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>Records dropped because the queue was full (<see cref="UsageQueueFullMode.Drop"/> only).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Records appended to the store so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Records waiting to be written.</summary>
    public int Pending => _channel.Reader.Count;

    /// <summary>
    /// Queues a record. Completes at once unless the queue is full in <see cref="UsageQueueFullMode.Wait"/> mode. After
    /// shutdown began, the record is written straight to the store.
    /// </summary>
    public ValueTask WriteAsync(UsageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        // In Drop mode a full channel accepts the write and drops it (counted by its callback).
        return _channel.Writer.TryWrite(record) ? ValueTask.CompletedTask : SlowWriteAsync(record, cancellationToken);
    }

    private async ValueTask SlowWriteAsync(UsageRecord record, CancellationToken cancellationToken)
    {
        try
        {
            await _channel.Writer.WriteAsync(record, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // Shutting down (or never started): write it ourselves rather than lose it.
            await _store.AppendAsync([record], CancellationToken.None).ConfigureAwait(false);
            Interlocked.Increment(ref _written);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _reader = Task.Run(ReadLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _channel.Writer.TryComplete();
        if (_reader is not null)
        {
            // Draining is not cut short by the host's shutdown token: losing usage costs more than a slower stop.
            await _reader.ConfigureAwait(false);
        }
    }

    private async Task ReadLoopAsync()
    {
        var batch = new List<UsageRecord>(_options.BatchSize);
        var reader = _channel.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            if (_options.FlushInterval > TimeSpan.Zero && reader.Count < _options.BatchSize)
            {
                await Task.Delay(_options.FlushInterval).ConfigureAwait(false); // let others join this commit
            }

            while (batch.Count < _options.BatchSize && reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            await AppendWithRetryAsync(batch).ConfigureAwait(false);
            batch.Clear();
        }
    }

    private async Task AppendWithRetryAsync(List<UsageRecord> batch)
    {
        // A locked or full disk is retried a bounded number of times; then the batch is logged as lost (counts only).
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _store.AppendAsync(batch, CancellationToken.None).ConfigureAwait(false);
                Interlocked.Add(ref _written, batch.Count);
                return;
            }
            catch (Exception ex) when (attempt < 5 && ex is not OutOfMemoryException)
            {
                Log.AppendRetry(_logger, batch.Count, attempt, ex);
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Interlocked.Add(ref _dropped, batch.Count);
                Log.AppendFailed(_logger, batch.Count, ex);
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = MeteringLogEvents.AppendRetry, Level = LogLevel.Warning, Message = "Writing {Count} usage records failed (attempt {Attempt}); retrying.")]
        public static partial void AppendRetry(ILogger logger, int count, int attempt, Exception exception);

        [LoggerMessage(EventId = MeteringLogEvents.AppendFailed, Level = LogLevel.Error, Message = "{Count} usage records could not be written and are lost.")]
        public static partial void AppendFailed(ILogger logger, int count, Exception exception);
    }
}

/// <summary>Event ids of metering logs (3000-3099).</summary>
internal static class MeteringLogEvents
{
    public const int AppendRetry = 3001;
    public const int AppendFailed = 3002;
}
