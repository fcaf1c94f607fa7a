using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServeGate.Ledger;

namespace ServeGate.Ledger.Tests;

/// <summary>The writer: spooled before it says done, stored once, replayed after a crash, never silent when full.</summary>
public sealed class UsageWriterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("servegate-writer-").FullName;

    private MeteringOptions Options(int capacity = 10_000, UsageQueueFullMode mode = UsageQueueFullMode.Wait) => new()
    {
        DatabasePath = Path.Combine(_directory, "usage.db"),
        QueueCapacity = capacity,
        FullMode = mode,
        BatchSize = 64,
        FlushInterval = TimeSpan.FromMilliseconds(5),
        DrainTimeout = TimeSpan.FromSeconds(1),
    };

    private static UsageRecord Record(int i) => new()
    {
        RequestId = "req-" + i,
        Timestamp = DateTimeOffset.UnixEpoch.AddSeconds(i),
        KeyId = "k",
        Team = "t",
        Model = "m",
        Worker = "local",
        Endpoint = "/v1/completions",
        PromptTokens = i,
        CompletionTokens = 1,
        HttpStatus = 200,
        CostUsd = 0.000001m * i,
    };

    [Fact]
    public async Task StopAsync_ConcurrentWrites_AllStoredOnceAndSpoolEmptied()
    {
        var options = Options();
        using var store = new SqliteUsageStore(options.ResolveDatabasePath());
        var writer = new UsageWriter(store, Microsoft.Extensions.Options.Options.Create(options), new ListLogger<UsageWriter>());
        await writer.StartAsync(CancellationToken.None);

        await Parallel.ForAsync(0, 1000, async (i, ct) => await writer.WriteAsync(Record(i), ct));
        await writer.StopAsync(CancellationToken.None);
        await writer.DisposeAsync();

        Assert.Equal(1000, (await store.QueryAsync(new UsageQuery { Limit = 10_000 }, CancellationToken.None)).Count);
        Assert.Empty(Directory.EnumerateFiles(options.ResolveSpoolDirectory()));
    }

    [Fact]
    public async Task WriteAsync_Completed_RecordIsInTheSpoolFile()
    {
        var options = Options();
        var store = new BlockedStore();
        var writer = new UsageWriter(store, Microsoft.Extensions.Options.Options.Create(options), new ListLogger<UsageWriter>());
        await writer.StartAsync(CancellationToken.None);

        await writer.WriteAsync(Record(1));

        // The store has not taken it (blocked), yet it is on disk: this is what holds a response's end.
        var spooled = Directory.EnumerateFiles(options.ResolveSpoolDirectory()).SelectMany(UsageSpool.Read).ToList();
        Assert.Equal("req-1", Assert.Single(spooled).RequestId);
        store.Release.SetResult();
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task Start_SpoolLeftByACrash_ReplaysEachRecordOnce()
    {
        var options = Options();
        // A run that spooled 300 records and stored only the first 100 before it was killed.
        var crashed = new BlockedStore();
        var first = new UsageWriter(crashed, Microsoft.Extensions.Options.Options.Create(options), new ListLogger<UsageWriter>());
        await first.StartAsync(CancellationToken.None);
        await Parallel.ForAsync(0, 300, async (i, ct) => await first.WriteAsync(Record(i), ct));
        using (var partial = new SqliteUsageStore(options.ResolveDatabasePath()))
        {
            await partial.AppendAsync([.. Enumerable.Range(0, 100).Select(Record)], CancellationToken.None);
        }

        // (no StopAsync: the process died; its spool files stay as they were)
        using var store = new SqliteUsageStore(options.ResolveDatabasePath());
        var logger = new ListLogger<UsageWriter>();
        var second = new UsageWriter(store, Microsoft.Extensions.Options.Options.Create(options), logger);
        await second.StartAsync(CancellationToken.None);
        await second.WriteAsync(Record(1000));
        await second.StopAsync(CancellationToken.None);

        var records = await store.QueryAsync(new UsageQuery { Limit = 10_000 }, CancellationToken.None);
        Assert.Equal(301, records.Count);
        Assert.Equal(301, records.Select(r => r.RequestId).Distinct().Count());
        Assert.Contains(logger.Messages, m => m.Contains("Replayed 300", StringComparison.Ordinal) && m.Contains("200 were new", StringComparison.Ordinal));
        crashed.Release.SetResult();
        await first.DisposeAsync();
    }

    [Fact]
    public async Task WriteAsync_FullSpoolInDropMode_DropsAndLogsEachRecord()
    {
        var options = Options(capacity: 4, mode: UsageQueueFullMode.Drop);
        var store = new BlockedStore();
        var logger = new ListLogger<UsageWriter>();
        var writer = new UsageWriter(store, Microsoft.Extensions.Options.Options.Create(options), logger);
        await writer.StartAsync(CancellationToken.None);

        for (var i = 0; i < 10; i++)
        {
            await writer.WriteAsync(Record(i)); // the store takes nothing: 4 fill the spool
        }

        Assert.Equal(6, writer.Dropped);
        Assert.Equal(6, logger.Messages.Count(m => m.Contains("is dropped", StringComparison.Ordinal)));
        Assert.Contains(logger.Messages, m => m.Contains("req-9", StringComparison.Ordinal));
        store.Release.SetResult();
        await writer.StopAsync(CancellationToken.None);
        Assert.Equal(4, store.Stored.Count);
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task WriteAsync_FullSpoolInWaitMode_WaitsForRoomAndLogs()
    {
        var options = Options(capacity: 4);
        var store = new BlockedStore();
        var logger = new ListLogger<UsageWriter>();
        var writer = new UsageWriter(store, Microsoft.Extensions.Options.Options.Create(options), logger);
        await writer.StartAsync(CancellationToken.None);
        for (var i = 0; i < 4; i++)
        {
            await writer.WriteAsync(Record(i));
        }

        var fifth = writer.WriteAsync(Record(4)).AsTask();
        await Task.Delay(200);
        Assert.False(fifth.IsCompleted); // back-pressure: the response waits
        Assert.Contains(logger.Messages, m => m.Contains("responses wait for room", StringComparison.Ordinal));

        store.Release.SetResult();
        await fifth.WaitAsync(TimeSpan.FromSeconds(10));
        await writer.StopAsync(CancellationToken.None);
        Assert.Equal(5, store.Stored.Count);
        Assert.Equal(0, writer.Dropped);
        await writer.DisposeAsync();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A store that takes nothing until released (a store that is down, or slow).</summary>
    private sealed class BlockedStore : IUsageStore
    {
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<UsageRecord> Stored { get; } = [];

        public async Task<int> AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
        {
            await Release.Task.WaitAsync(cancellationToken);
            lock (Stored)
            {
                var added = records.Where(r => Stored.All(s => s.RequestId != r.RequestId)).ToList();
                Stored.AddRange(added);
                return added.Count;
            }
        }

        public Task<IReadOnlyList<UsageRecord>> QueryAsync(UsageQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<UsageAggregate>> AggregateAsync(UsageAggregateQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task RecordUptimeAsync(PoolUptime uptime, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<PoolUptime>> UptimeAsync(DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private sealed class ListLogger<T> : ILogger<T>
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_messages)
            {
                _messages.Add(formatter(state, exception));
            }
        }
    }
}
