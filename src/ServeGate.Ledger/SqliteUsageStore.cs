using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace ServeGate.Ledger;

/// <summary>
/// The usage ledger in one SQLite file (WAL, synchronous FULL, one transaction per batch). A record is inserted once
/// (unique request id) and, only when new, added to the hourly rollup in the same transaction, so reports over hours and
/// days read the rollup instead of the raw rows (see docs/architecture.md, "The ledger").
/// </summary>
public sealed class SqliteUsageStore : IUsageStore, IDisposable
{
    private const string Columns =
        "request_id, ts_unix_ms, key_id, team, model, worker, endpoint, stream, prompt_tokens, cached_tokens, completion_tokens, " +
        "estimated, compute_seconds, latency_ms, ttft_ms, queue_ms, http_status, outcome, finish_reason, cost_usd, cost_nusd, " +
        "priced, pool, checkpoint, hardware_usd_per_hour, inference_nusd, cache_savings_nusd, training_usd_per_token, training_share_nusd, " +
        "list_price_reference, list_input_usd_per_million, list_cached_input_usd_per_million, list_output_usd_per_million, list_price_nusd";

    private const int ColumnCount = 34;
    private const long HourMs = 3_600_000;

    // Columns added after the first release: an older usage.db gains them (and its rollup is rebuilt) at open.
    private static readonly (string Name, string Definition)[] AddedColumns =
    [
        ("cost_nusd", "INTEGER NOT NULL DEFAULT 0"),
        ("priced", "INTEGER NOT NULL DEFAULT 0"),
        ("pool", "TEXT NOT NULL DEFAULT ''"),
        ("checkpoint", "TEXT NOT NULL DEFAULT ''"),
        ("hardware_usd_per_hour", "TEXT NOT NULL DEFAULT '0'"),
        ("inference_nusd", "INTEGER NOT NULL DEFAULT 0"),
        ("cache_savings_nusd", "INTEGER NOT NULL DEFAULT 0"),
        ("training_usd_per_token", "TEXT NOT NULL DEFAULT '0'"),
        ("training_share_nusd", "INTEGER NOT NULL DEFAULT 0"),
        ("list_price_reference", "TEXT NOT NULL DEFAULT ''"),
        ("list_input_usd_per_million", "TEXT NOT NULL DEFAULT '0'"),
        ("list_cached_input_usd_per_million", "TEXT NOT NULL DEFAULT '0'"),
        ("list_output_usd_per_million", "TEXT NOT NULL DEFAULT '0'"),
        ("list_price_nusd", "INTEGER NOT NULL DEFAULT 0"),
    ];

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly SqliteConnection _writer;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _rollup;

    public SqliteUsageStore(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _writer = Open();
        Execute(_writer, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
        CreateSchema(_writer);
        _insert = Prepare(_writer, $"INSERT INTO usage ({Columns}) VALUES ({string.Join(", ", Enumerable.Range(0, ColumnCount).Select(i => "$p" + i.ToString(CultureInfo.InvariantCulture)))}) ON CONFLICT (request_id) DO NOTHING", ColumnCount);
        _rollup = Prepare(_writer, """
            INSERT INTO usage_hourly (hour_ms, model, key_id, team, checkpoint, pool, requests, input_tokens, cached_tokens, output_tokens,
              compute_seconds, cost_nusd, inference_nusd, cache_savings_nusd, training_share_nusd, list_price_nusd)
            VALUES ($p0, $p1, $p2, $p3, $p4, $p5, 1, $p6, $p7, $p8, $p9, $p10, $p11, $p12, $p13, $p14)
            ON CONFLICT (hour_ms, model, key_id, team, checkpoint, pool) DO UPDATE SET
              requests = requests + 1, input_tokens = input_tokens + excluded.input_tokens, cached_tokens = cached_tokens + excluded.cached_tokens,
              output_tokens = output_tokens + excluded.output_tokens, compute_seconds = compute_seconds + excluded.compute_seconds,
              cost_nusd = cost_nusd + excluded.cost_nusd, inference_nusd = inference_nusd + excluded.inference_nusd,
              cache_savings_nusd = cache_savings_nusd + excluded.cache_savings_nusd,
              training_share_nusd = training_share_nusd + excluded.training_share_nusd, list_price_nusd = list_price_nusd + excluded.list_price_nusd
            """, 15);
    }

    /// <summary>USD as an integer number of nano-dollars (10^-9 USD), what the ledger sums exactly.</summary>
    internal static long ToNano(decimal usd) => (long)decimal.Round(usd * 1_000_000_000m, MidpointRounding.AwayFromZero);

    internal static decimal FromNano(long nano) => nano / 1_000_000_000m;

    private static void CreateSchema(SqliteConnection connection)
    {
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS usage (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              request_id TEXT NOT NULL,
              ts_unix_ms INTEGER NOT NULL,
              key_id TEXT NOT NULL,
              team TEXT NOT NULL,
              model TEXT NOT NULL,
              worker TEXT NOT NULL,
              endpoint TEXT NOT NULL,
              stream INTEGER NOT NULL,
              prompt_tokens INTEGER NOT NULL,
              cached_tokens INTEGER NOT NULL,
              completion_tokens INTEGER NOT NULL,
              estimated INTEGER NOT NULL,
              compute_seconds REAL NOT NULL,
              latency_ms REAL NOT NULL,
              ttft_ms REAL,
              queue_ms REAL,
              http_status INTEGER NOT NULL,
              outcome TEXT NOT NULL,
              finish_reason TEXT,
              cost_usd TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS usage_hourly (
              hour_ms INTEGER NOT NULL,
              model TEXT NOT NULL,
              key_id TEXT NOT NULL,
              team TEXT NOT NULL,
              checkpoint TEXT NOT NULL,
              pool TEXT NOT NULL,
              requests INTEGER NOT NULL,
              input_tokens INTEGER NOT NULL,
              cached_tokens INTEGER NOT NULL,
              output_tokens INTEGER NOT NULL,
              compute_seconds REAL NOT NULL,
              cost_nusd INTEGER NOT NULL,
              inference_nusd INTEGER NOT NULL,
              cache_savings_nusd INTEGER NOT NULL,
              training_share_nusd INTEGER NOT NULL,
              list_price_nusd INTEGER NOT NULL,
              PRIMARY KEY (hour_ms, model, key_id, team, checkpoint, pool)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS pool_uptime (
              pool TEXT NOT NULL,
              instance_id TEXT NOT NULL,
              start_unix_ms INTEGER NOT NULL,
              end_unix_ms INTEGER NOT NULL,
              hardware_usd_per_hour TEXT NOT NULL,
              PRIMARY KEY (pool, instance_id));
            CREATE INDEX IF NOT EXISTS pool_uptime_end ON pool_uptime (end_unix_ms);
            """);

        var existing = new HashSet<string>(StringComparer.Ordinal);
        using (var info = connection.CreateCommand())
        {
            info.CommandText = "SELECT name FROM pragma_table_info('usage')";
            using var reader = info.ExecuteReader();
            while (reader.Read())
            {
                existing.Add(reader.GetString(0));
            }
        }

        var upgraded = false;
        foreach (var (name, definition) in AddedColumns.Where(c => !existing.Contains(c.Name)))
        {
            Execute(connection, $"ALTER TABLE usage ADD COLUMN {name} {definition}");
            upgraded = true;
        }

        if (upgraded)
        {
            // A ledger written before the rollup existed: nano-dollar costs from the exact text, duplicates (none were
            // expected) removed so the unique index can be built, the rollup rebuilt from every row.
            Execute(connection, """
                BEGIN;
                UPDATE usage SET cost_nusd = CAST(ROUND(CAST(cost_usd AS REAL) * 1e9) AS INTEGER);
                DELETE FROM usage WHERE id NOT IN (SELECT MIN(id) FROM usage GROUP BY request_id);
                DELETE FROM usage_hourly;
                INSERT INTO usage_hourly SELECT (ts_unix_ms / 3600000) * 3600000, model, key_id, team, checkpoint, pool, COUNT(*),
                  SUM(prompt_tokens), SUM(cached_tokens), SUM(completion_tokens), SUM(compute_seconds), SUM(cost_nusd), SUM(inference_nusd),
                  SUM(cache_savings_nusd), SUM(training_share_nusd), SUM(list_price_nusd)
                  FROM usage GROUP BY 1, model, key_id, team, checkpoint, pool;
                COMMIT;
                """);
        }

        Execute(connection, """
            CREATE UNIQUE INDEX IF NOT EXISTS usage_request_id ON usage (request_id);
            CREATE INDEX IF NOT EXISTS usage_ts ON usage (ts_unix_ms);
            CREATE INDEX IF NOT EXISTS usage_key_ts ON usage (key_id, ts_unix_ms);
            CREATE INDEX IF NOT EXISTS usage_team_ts ON usage (team, ts_unix_ms);
            """);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Prepare(SqliteConnection connection, string sql, int parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < parameters; i++)
        {
            command.Parameters.Add("$p" + i.ToString(CultureInfo.InvariantCulture), SqliteType.Text);
        }

        command.Prepare();
        return command;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    public async Task<int> AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return 0;
        }

        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = _writer.BeginTransaction();
            _insert.Transaction = transaction;
            _rollup.Transaction = transaction;
            var added = 0;
            foreach (var r in records)
            {
                if (Insert(r) == 0)
                {
                    continue; // stored already (a replay): neither the row nor the rollup changes
                }

                added++;
                var c = r.Charges;
                Bind(_rollup.Parameters,
                [
                    r.Timestamp.ToUnixTimeMilliseconds() / HourMs * HourMs, r.Model, r.KeyId, r.Team, c?.Checkpoint ?? string.Empty,
                    c?.Pool ?? string.Empty, (long)r.PromptTokens, (long)r.CachedTokens, (long)r.CompletionTokens, r.ComputeSeconds,
                    ToNano(r.CostUsd), ToNano(c?.InferenceCostUsd ?? 0), ToNano(c?.CacheSavingsUsd ?? 0), ToNano(c?.TrainingShareUsd ?? 0),
                    ToNano(c?.ListPriceUsd ?? 0),
                ]);
                _rollup.ExecuteNonQuery();
            }

            transaction.Commit();
            return added;
        }
        finally
        {
            _insert.Transaction = null;
            _rollup.Transaction = null;
            _writeGate.Release();
        }
    }

    private int Insert(UsageRecord r)
    {
        var c = r.Charges;
        Bind(_insert.Parameters,
        [
            r.RequestId, r.Timestamp.ToUnixTimeMilliseconds(), r.KeyId, r.Team, r.Model, r.Worker, r.Endpoint, r.Stream ? 1L : 0L,
            (long)r.PromptTokens, (long)r.CachedTokens, (long)r.CompletionTokens, r.Estimated ? 1L : 0L, r.ComputeSeconds, r.LatencyMs,
            r.TimeToFirstTokenMs, r.QueueMs, (long)r.HttpStatus, r.Outcome.ToString().ToLowerInvariant(), r.FinishReason,
            r.CostUsd.ToString(CultureInfo.InvariantCulture), ToNano(r.CostUsd), c is null ? 0L : 1L, c?.Pool ?? string.Empty,
            c?.Checkpoint ?? string.Empty, Text(c?.HardwareUsdPerHour), ToNano(c?.InferenceCostUsd ?? 0), ToNano(c?.CacheSavingsUsd ?? 0),
            Text(c?.TrainingUsdPerToken), ToNano(c?.TrainingShareUsd ?? 0), c?.ListPriceReference ?? string.Empty,
            Text(c?.ListInputUsdPerMillion), Text(c?.ListCachedInputUsdPerMillion), Text(c?.ListOutputUsdPerMillion), ToNano(c?.ListPriceUsd ?? 0),
        ]);
        return _insert.ExecuteNonQuery();
    }

    private static string Text(decimal? value) => (value ?? 0m).ToString(CultureInfo.InvariantCulture);

    private static void Bind(SqliteParameterCollection parameters, ReadOnlySpan<object?> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            var p = parameters[i];
            p.Value = values[i] ?? DBNull.Value;
            p.SqliteType = values[i] switch
            {
                long => SqliteType.Integer,
                double => SqliteType.Real,
                _ => SqliteType.Text,
            };
        }
    }

    public async Task<IReadOnlyList<UsageAggregate>> AggregateAsync(UsageAggregateQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var width = (long)query.BucketWidth.TotalMilliseconds;
        if (width <= 0 || (width % 60_000 != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(query), "The bucket width must be a positive number of whole minutes.");
        }

        var start = query.Start.ToUnixTimeMilliseconds();
        var end = query.End.ToUnixTimeMilliseconds();
        var sums = new SortedDictionary<GroupKey, Sums>();
        if (end <= start)
        {
            return [];
        }

        await using var connection = Open();
        if (width % HourMs == 0)
        {
            // Whole hours from the rollup, the partial hours at either end from the raw rows.
            var firstHour = (start + HourMs - 1) / HourMs * HourMs;
            var lastHour = end / HourMs * HourMs;
            if (firstHour < lastHour)
            {
                await SumAsync(connection, query, width, firstHour, lastHour, rollup: true, sums, cancellationToken).ConfigureAwait(false);
                await SumAsync(connection, query, width, start, firstHour, rollup: false, sums, cancellationToken).ConfigureAwait(false);
                await SumAsync(connection, query, width, lastHour, end, rollup: false, sums, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await SumAsync(connection, query, width, start, end, rollup: false, sums, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await SumAsync(connection, query, width, start, end, rollup: false, sums, cancellationToken).ConfigureAwait(false);
        }

        return [.. sums.Select(pair => pair.Value.ToAggregate(pair.Key))];
    }

    private static async Task SumAsync(
        SqliteConnection connection, UsageAggregateQuery query, long width, long from, long to, bool rollup,
        SortedDictionary<GroupKey, Sums> sums, CancellationToken cancellationToken)
    {
        if (from >= to)
        {
            return;
        }

        var g = query.GroupBy;
        string Col(UsageGrouping flag, string column) => g.HasFlag(flag) ? column : "NULL";
        var ts = rollup ? "hour_ms" : "ts_unix_ms";
        var sql = new StringBuilder();
        sql.Append(CultureInfo.InvariantCulture, $"SELECT ({ts} / {width}) * {width} AS bucket, ");
        sql.Append(CultureInfo.InvariantCulture, $"{Col(UsageGrouping.Model, "model")}, {Col(UsageGrouping.KeyId, "key_id")}, {Col(UsageGrouping.Team, "team")}, ");
        sql.Append(CultureInfo.InvariantCulture, $"{Col(UsageGrouping.Checkpoint, "checkpoint")}, {Col(UsageGrouping.Pool, "pool")}, ");
        sql.Append(rollup
            ? "SUM(requests), SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens), SUM(compute_seconds), SUM(cost_nusd), SUM(inference_nusd), SUM(cache_savings_nusd), SUM(training_share_nusd), SUM(list_price_nusd)"
            : "COUNT(*), SUM(prompt_tokens), SUM(cached_tokens), SUM(completion_tokens), SUM(compute_seconds), SUM(cost_nusd), SUM(inference_nusd), SUM(cache_savings_nusd), SUM(training_share_nusd), SUM(list_price_nusd)");
        sql.Append(CultureInfo.InvariantCulture, $" FROM {(rollup ? "usage_hourly" : "usage")} WHERE {ts} >= $from AND {ts} < $to");
        await using var command = connection.CreateCommand();
        command.Parameters.AddWithValue("$from", from);
        command.Parameters.AddWithValue("$to", to);
        AppendFilter(sql, command, "team", query.Teams);
        AppendFilter(sql, command, "key_id", query.KeyIds);
        AppendFilter(sql, command, "model", query.Models);
        sql.Append(" GROUP BY 1, 2, 3, 4, 5, 6");
        command.CommandText = sql.ToString();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var key = new GroupKey(
                reader.GetInt64(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5));
            if (!sums.TryGetValue(key, out var s))
            {
                sums[key] = s = new Sums();
            }

            s.Requests += reader.GetInt64(6);
            s.Input += reader.GetInt64(7);
            s.Cached += reader.GetInt64(8);
            s.Output += reader.GetInt64(9);
            s.ComputeSeconds += reader.GetDouble(10);
            s.Cost += reader.GetInt64(11);
            s.Inference += reader.GetInt64(12);
            s.CacheSavings += reader.GetInt64(13);
            s.TrainingShare += reader.GetInt64(14);
            s.ListPrice += reader.GetInt64(15);
        }
    }

    private static void AppendFilter(StringBuilder sql, SqliteCommand command, string column, IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        sql.Append(CultureInfo.InvariantCulture, $" AND {column} IN (");
        for (var i = 0; i < values.Count; i++)
        {
            var name = $"${column}{i.ToString(CultureInfo.InvariantCulture)}";
            sql.Append(i == 0 ? name : ", " + name);
            command.Parameters.AddWithValue(name, values[i]);
        }

        sql.Append(')');
    }

    public async Task RecordUptimeAsync(PoolUptime uptime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uptime);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _writer.CreateCommand();
            command.CommandText = """
                INSERT INTO pool_uptime (pool, instance_id, start_unix_ms, end_unix_ms, hardware_usd_per_hour) VALUES ($pool, $instance, $start, $end, $price)
                ON CONFLICT (pool, instance_id) DO UPDATE SET start_unix_ms = MIN(start_unix_ms, excluded.start_unix_ms),
                  end_unix_ms = MAX(end_unix_ms, excluded.end_unix_ms), hardware_usd_per_hour = excluded.hardware_usd_per_hour
                """;
            command.Parameters.AddWithValue("$pool", uptime.Pool);
            command.Parameters.AddWithValue("$instance", uptime.InstanceId);
            command.Parameters.AddWithValue("$start", uptime.Start.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$end", uptime.End.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$price", uptime.HardwareUsdPerHour.ToString(CultureInfo.InvariantCulture));
            command.ExecuteNonQuery();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async Task<IReadOnlyList<PoolUptime>> UptimeAsync(DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT pool, instance_id, start_unix_ms, end_unix_ms, hardware_usd_per_hour FROM pool_uptime
            WHERE start_unix_ms < $end AND end_unix_ms > $start ORDER BY pool, start_unix_ms, instance_id
            """;
        command.Parameters.AddWithValue("$start", start.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$end", end.ToUnixTimeMilliseconds());
        var list = new List<PoolUptime>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new PoolUptime
            {
                Pool = reader.GetString(0),
                InstanceId = reader.GetString(1),
                Start = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                End = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                HardwareUsdPerHour = decimal.Parse(reader.GetString(4), CultureInfo.InvariantCulture),
            });
        }

        return list;
    }

    public async Task<IReadOnlyList<UsageRecord>> QueryAsync(UsageQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {Columns} FROM usage
            WHERE ($key IS NULL OR key_id = $key) AND ($team IS NULL OR team = $team) AND ($since IS NULL OR ts_unix_ms >= $since)
              AND ($until IS NULL OR ts_unix_ms < $until)
            ORDER BY id DESC LIMIT $limit
            """;
        command.Parameters.AddWithValue("$key", (object?)query.KeyId ?? DBNull.Value);
        command.Parameters.AddWithValue("$team", (object?)query.Team ?? DBNull.Value);
        command.Parameters.AddWithValue("$since", (object?)query.Since?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        command.Parameters.AddWithValue("$until", (object?)query.Until?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        command.Parameters.AddWithValue("$limit", Math.Clamp(query.Limit, 1, 100_000));
        var list = new List<UsageRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(Read(reader));
        }

        return list;
    }

    private static UsageRecord Read(SqliteDataReader reader)
    {
        static decimal Dec(SqliteDataReader r, int i) => decimal.Parse(r.GetString(i), NumberStyles.Float, CultureInfo.InvariantCulture);
        return new UsageRecord
        {
            RequestId = reader.GetString(0),
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
            KeyId = reader.GetString(2),
            Team = reader.GetString(3),
            Model = reader.GetString(4),
            Worker = reader.GetString(5),
            Endpoint = reader.GetString(6),
            Stream = reader.GetInt64(7) != 0,
            PromptTokens = reader.GetInt32(8),
            CachedTokens = reader.GetInt32(9),
            CompletionTokens = reader.GetInt32(10),
            Estimated = reader.GetInt64(11) != 0,
            ComputeSeconds = reader.GetDouble(12),
            LatencyMs = reader.GetDouble(13),
            TimeToFirstTokenMs = reader.IsDBNull(14) ? null : reader.GetDouble(14),
            QueueMs = reader.IsDBNull(15) ? null : reader.GetDouble(15),
            HttpStatus = reader.GetInt32(16),
            Outcome = Enum.Parse<UsageOutcome>(reader.GetString(17), ignoreCase: true),
            FinishReason = reader.IsDBNull(18) ? null : reader.GetString(18),
            CostUsd = Dec(reader, 19),
            Charges = reader.GetInt64(21) == 0 ? null : new UsageCharges
            {
                Pool = reader.GetString(22),
                Checkpoint = reader.GetString(23),
                HardwareUsdPerHour = Dec(reader, 24),
                InferenceCostUsd = FromNano(reader.GetInt64(25)),
                CacheSavingsUsd = FromNano(reader.GetInt64(26)),
                TrainingUsdPerToken = Dec(reader, 27),
                TrainingShareUsd = FromNano(reader.GetInt64(28)),
                ListPriceReference = reader.GetString(29),
                ListInputUsdPerMillion = Dec(reader, 30),
                ListCachedInputUsdPerMillion = Dec(reader, 31),
                ListOutputUsdPerMillion = Dec(reader, 32),
                ListPriceUsd = FromNano(reader.GetInt64(33)),
            },
        };
    }

    public void Dispose()
    {
        _insert.Dispose();
        _rollup.Dispose();
        _writer.Dispose();
        _writeGate.Dispose();
    }

    private readonly record struct GroupKey(long Bucket, string? Model, string? KeyId, string? Team, string? Checkpoint, string? Pool) : IComparable<GroupKey>
    {
        public int CompareTo(GroupKey other)
        {
            var c = Bucket.CompareTo(other.Bucket);
            c = c != 0 ? c : string.CompareOrdinal(Model, other.Model);
            c = c != 0 ? c : string.CompareOrdinal(KeyId, other.KeyId);
            c = c != 0 ? c : string.CompareOrdinal(Team, other.Team);
            c = c != 0 ? c : string.CompareOrdinal(Checkpoint, other.Checkpoint);
            return c != 0 ? c : string.CompareOrdinal(Pool, other.Pool);
        }
    }

    private sealed class Sums
    {
        public long Requests;
        public long Input;
        public long Cached;
        public long Output;
        public double ComputeSeconds;
        public long Cost;
        public long Inference;
        public long CacheSavings;
        public long TrainingShare;
        public long ListPrice;

        public UsageAggregate ToAggregate(GroupKey key) => new()
        {
            BucketStart = DateTimeOffset.FromUnixTimeMilliseconds(key.Bucket),
            Model = key.Model,
            KeyId = key.KeyId,
            Team = key.Team,
            Checkpoint = key.Checkpoint,
            Pool = key.Pool,
            Requests = Requests,
            InputTokens = Input,
            CachedTokens = Cached,
            OutputTokens = Output,
            ComputeSeconds = ComputeSeconds,
            CostUsd = FromNano(Cost),
            InferenceCostUsd = FromNano(Inference),
            CacheSavingsUsd = FromNano(CacheSavings),
            TrainingShareUsd = FromNano(TrainingShare),
            ListPriceUsd = FromNano(ListPrice),
        };
    }
}
