using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ServeGate.Ledger;

/// <summary>
/// Takes usage records off the request path in two stages, each one reader of a channel: the spool loop appends what
/// arrived to the <see cref="UsageSpool"/> and syncs it (group commit), which completes each caller's
/// <see cref="WriteAsync"/>; the store loop appends spooled records to the <see cref="IUsageStore"/> in batches, and only
/// then lets the spool forget them. At most <see cref="MeteringOptions.QueueCapacity"/> records are between the two
/// ends; beyond, <see cref="MeteringOptions.FullMode"/> decides, and says so in the log.
/// </summary>
public sealed partial class UsageWriter : IHostedService, IAsyncDisposable
{
    private readonly Channel<QueuedRecord> _incoming = Channel.CreateUnbounded<QueuedRecord>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<SpooledBatch> _spooled = Channel.CreateUnbounded<SpooledBatch>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly SemaphoreSlim _slots;
    private readonly IUsageStore _store;
    private readonly MeteringOptions _options;
    private readonly ILogger<UsageWriter> _logger;
    private readonly TimeProvider _time;
    private readonly UsageSpool? _spool;
    private readonly CancellationTokenSource _giveUp = new();
    private Task? _spoolLoop;
    private Task? _storeLoop;
    private long _dropped;
    private long _written;
    private long _lastFullLog = long.MinValue;

    public UsageWriter(IUsageStore store, IOptions<MeteringOptions> options, ILogger<UsageWriter> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options.Value;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _slots = new SemaphoreSlim(_options.QueueCapacity, _options.QueueCapacity);
        _spool = _options.Durable ? new UsageSpool(_options.ResolveSpoolDirectory()) : null;
    }

    /// <summary>Records dropped because the spool was full (<see cref="UsageQueueFullMode.Drop"/> only).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Records appended to the store so far (new or not).</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Records accepted and not stored yet.</summary>
    public int Pending => _options.QueueCapacity - _slots.CurrentCount;

    /// <summary>
    /// Accepts a record; completes once it is durable in the spool (at once with <see cref="MeteringOptions.Durable"/>
    /// false). A full spool waits or drops (<see cref="MeteringOptions.FullMode"/>). After shutdown began, the record is
    /// written straight to the store.
    /// </summary>
    public ValueTask WriteAsync(UsageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!_slots.Wait(0))
        {
            if (_options.FullMode == UsageQueueFullMode.Drop)
            {
                var dropped = Interlocked.Increment(ref _dropped);
                Log.Dropped(_logger, record.RequestId, _options.QueueCapacity, dropped);
                return ValueTask.CompletedTask;
            }

            return WaitForRoomAsync(record, cancellationToken);
        }

        return Enqueue(record);
    }

    private async ValueTask WaitForRoomAsync(UsageRecord record, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastFullLog);
        if (last == long.MinValue || _time.GetElapsedTime(last, now) >= TimeSpan.FromSeconds(1))
        {
            Interlocked.Exchange(ref _lastFullLog, now);
            Log.Full(_logger, _options.QueueCapacity);
        }

        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        await Enqueue(record).ConfigureAwait(false);
    }

    private ValueTask Enqueue(UsageRecord record)
    {
        var done = _spool is null ? null : new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_incoming.Writer.TryWrite(new QueuedRecord(record, done)))
        {
            _slots.Release();
            return new ValueTask(WriteDirectAsync(record)); // shutting down (or never started)
        }

        return done is null ? ValueTask.CompletedTask : new ValueTask(done.Task);
    }

    private async Task WriteDirectAsync(UsageRecord record)
    {
        await _store.AppendAsync([record], CancellationToken.None).ConfigureAwait(false);
        Interlocked.Increment(ref _written);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _spoolLoop = Task.Run(SpoolLoopAsync, CancellationToken.None);
        _storeLoop = Task.Run(StoreLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_incoming.Writer.TryComplete())
        {
            return;
        }

        if (_spoolLoop is null || _storeLoop is null)
        {
            return; // never started: a spooled record waits for the next start
        }

        await _spoolLoop.ConfigureAwait(false);
        // Records are safe in the spool: draining them into the store is bounded, the rest waits for the next start.
        if (await Task.WhenAny(_storeLoop, Task.Delay(_options.DrainTimeout, CancellationToken.None)).ConfigureAwait(false) != _storeLoop)
        {
            await _giveUp.CancelAsync().ConfigureAwait(false);
            await _storeLoop.ConfigureAwait(false);
            Log.LeftInSpool(_logger, _spool?.Unstored ?? 0);
        }

        _spool?.Seal();
    }

    private async Task SpoolLoopAsync()
    {
        var reader = _incoming.Reader;
        var batch = new List<QueuedRecord>();
        var records = new List<UsageRecord>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < 4096 && reader.TryRead(out var pending))
            {
                batch.Add(pending);
                records.Add(pending.Record);
            }

            long segment = 0;
            if (_spool is not null)
            {
                try
                {
                    segment = _spool.Append(records);
                }
                catch (IOException ex)
                {
                    // A full or failing disk: the records go on to the store, but a crash before it commits loses them.
                    Log.SpoolFailed(_logger, records.Count, ex);
                    segment = -1;
                }
            }

            _spooled.Writer.TryWrite(new SpooledBatch([.. records], segment));
            foreach (var pending in batch)
            {
                pending.Done?.TrySetResult();
            }

            batch.Clear();
            records.Clear();
        }

        _spooled.Writer.TryComplete();
    }

    private async Task StoreLoopAsync()
    {
        if (_spool is not null)
        {
            await ReplayAsync(_spool).ConfigureAwait(false);
        }

        var reader = _spooled.Reader;
        var batches = new List<SpooledBatch>();
        var records = new List<UsageRecord>(_options.BatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            if (_options.FlushInterval > TimeSpan.Zero && Pending < _options.BatchSize && !_incoming.Reader.Completion.IsCompleted)
            {
                await Task.Delay(_options.FlushInterval, _time).ConfigureAwait(false); // let others join this commit
            }

            while (records.Count < _options.BatchSize && reader.TryRead(out var batch))
            {
                batches.Add(batch);
                records.AddRange(batch.Records);
            }

            if (!await AppendWithRetryAsync(records).ConfigureAwait(false))
            {
                return; // shutting down with the store unreachable: the records stay in the spool
            }

            foreach (var batch in batches)
            {
                if (batch.Segment > 0)
                {
                    _spool?.Stored(batch.Segment, batch.Records.Length);
                }
            }

            _slots.Release(records.Count);
            batches.Clear();
            records.Clear();
        }
    }

    private async Task ReplayAsync(UsageSpool spool)
    {
        foreach (var path in spool.Leftovers)
        {
            var records = UsageSpool.Read(path);
            var added = 0;
            foreach (var chunk in records.Chunk(Math.Max(_options.BatchSize, 256)))
            {
                if (!await AppendWithRetryAsync(chunk, count => added += count).ConfigureAwait(false))
                {
                    return;
                }
            }

            File.Delete(path);
            Log.Replayed(_logger, records.Count, added, Path.GetFileName(path));
        }
    }

    /// <summary>Appends until the store takes the records (they are in the spool meanwhile); false when told to give up.</summary>
    private async Task<bool> AppendWithRetryAsync(IReadOnlyList<UsageRecord> records, Action<int>? added = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var count = await _store.AppendAsync(records, CancellationToken.None).ConfigureAwait(false);
                added?.Invoke(count);
                Interlocked.Add(ref _written, records.Count);
                return true;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.AppendRetry(_logger, records.Count, attempt, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * attempt)), _time, _giveUp.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _spool?.Dispose();
        _giveUp.Dispose();
    }

    private readonly record struct QueuedRecord(UsageRecord Record, TaskCompletionSource? Done);

    private sealed record SpooledBatch(UsageRecord[] Records, long Segment);

    private static partial class Log
    {
        [LoggerMessage(EventId = MeteringLogEvents.AppendRetry, Level = LogLevel.Warning, Message = "Writing {Count} usage records to the ledger failed (attempt {Attempt}); they wait in the spool and are retried.")]
        public static partial void AppendRetry(ILogger logger, int count, int attempt, Exception exception);

        [LoggerMessage(EventId = MeteringLogEvents.Dropped, Level = LogLevel.Warning, Message = "Usage spool full ({Capacity} records not stored yet): the record of {RequestId} is dropped (FullMode Drop; {Total} dropped so far).")]
        public static partial void Dropped(ILogger logger, string requestId, int capacity, long total);

        [LoggerMessage(EventId = MeteringLogEvents.Full, Level = LogLevel.Warning, Message = "Usage spool full ({Capacity} records not stored yet): responses wait for room (FullMode Wait).")]
        public static partial void Full(ILogger logger, int capacity);

        [LoggerMessage(EventId = MeteringLogEvents.SpoolFailed, Level = LogLevel.Error, Message = "{Count} usage records could not be written to the spool; they go on to the ledger but a crash before it commits would lose them.")]
        public static partial void SpoolFailed(ILogger logger, int count, Exception exception);

        [LoggerMessage(EventId = MeteringLogEvents.Replayed, Level = LogLevel.Information, Message = "Replayed {Count} spooled usage records from {Segment} into the ledger ({Added} were new).")]
        public static partial void Replayed(ILogger logger, int count, int added, string segment);

        [LoggerMessage(EventId = MeteringLogEvents.LeftInSpool, Level = LogLevel.Warning, Message = "The ledger did not take every usage record before shutdown; {Count} wait in the spool for the next start.")]
        public static partial void LeftInSpool(ILogger logger, long count);
    }
}

/// <summary>Event ids of metering logs (3000-3099).</summary>
internal static class MeteringLogEvents
{
    public const int AppendRetry = 3001;
    public const int Dropped = 3002;
    public const int Full = 3003;
    public const int SpoolFailed = 3004;
    public const int Replayed = 3005;
    public const int LeftInSpool = 3006;
    public const int DataMoved = 3007;
}
