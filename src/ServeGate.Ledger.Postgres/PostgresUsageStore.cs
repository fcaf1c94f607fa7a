using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace ServeGate.Ledger.Postgres;

/// <summary>
/// The usage ledger in PostgreSQL, shared by every gateway that points at it. An append is one transaction: the batch
/// copied (binary COPY) into a temporary staging table, then one prepared statement inserting it with
/// <c>ON CONFLICT (request_id) DO NOTHING</c> and adding only the rows that were new to the rollups (<c>usage_hourly</c>, <c>usage_daily</c>) in the same transaction, so replays and two gateways writing the
/// same records never double-count. Aggregates read the daily and hourly rollups for the whole days and hours of
/// their range, and raw rows only for its edges (or for buckets narrower than an hour).
/// </summary>
public sealed class PostgresUsageStore : IUsageStore, IAsyncDisposable, IDisposable
{
    private const int MaxAttempts = 4;

    // The ledger's columns in table order, each with how a record's value is copied into the staging table.
    private static readonly (string Name, Func<NpgsqlBinaryImporter, UsageRecord, CancellationToken, Task> Write)[] Columns =
    [
        ("request_id", (w, r, ct) => Text(w, r.RequestId, ct)),
        ("ts", (w, r, ct) => w.WriteAsync(r.Timestamp.UtcDateTime, NpgsqlDbType.TimestampTz, ct)),
        ("key_id", (w, r, ct) => Text(w, r.KeyId, ct)),
        ("team", (w, r, ct) => Text(w, r.Team, ct)),
        ("model", (w, r, ct) => Text(w, r.Model, ct)),
        ("worker", (w, r, ct) => Text(w, r.Worker, ct)),
        ("endpoint", (w, r, ct) => Text(w, r.Endpoint, ct)),
        ("stream", (w, r, ct) => w.WriteAsync(r.Stream, NpgsqlDbType.Boolean, ct)),
        ("prompt_tokens", (w, r, ct) => w.WriteAsync(r.PromptTokens, NpgsqlDbType.Integer, ct)),
        ("cached_tokens", (w, r, ct) => w.WriteAsync(r.CachedTokens, NpgsqlDbType.Integer, ct)),
        ("completion_tokens", (w, r, ct) => w.WriteAsync(r.CompletionTokens, NpgsqlDbType.Integer, ct)),
        ("estimated", (w, r, ct) => w.WriteAsync(r.Estimated, NpgsqlDbType.Boolean, ct)),
        ("compute_seconds", (w, r, ct) => w.WriteAsync(r.ComputeSeconds, NpgsqlDbType.Double, ct)),
        ("latency_ms", (w, r, ct) => w.WriteAsync(r.LatencyMs, NpgsqlDbType.Double, ct)),
        ("ttft_ms", (w, r, ct) => Value(w, r.TimeToFirstTokenMs, NpgsqlDbType.Double, ct)),
        ("queue_ms", (w, r, ct) => Value(w, r.QueueMs, NpgsqlDbType.Double, ct)),
        ("http_status", (w, r, ct) => w.WriteAsync(r.HttpStatus, NpgsqlDbType.Integer, ct)),
        ("outcome", (w, r, ct) => Text(w, OutcomeName(r.Outcome), ct)),
        ("finish_reason", (w, r, ct) => Text(w, r.FinishReason, ct)),
        ("cost_usd", (w, r, ct) => w.WriteAsync(r.CostUsd, NpgsqlDbType.Numeric, ct)),
        ("pool", (w, r, ct) => Text(w, r.Charges?.Pool, ct)),
        ("checkpoint", (w, r, ct) => Text(w, r.Charges?.Checkpoint, ct)),
        ("hardware_usd_per_hour", (w, r, ct) => Value(w, r.Charges?.HardwareUsdPerHour, NpgsqlDbType.Numeric, ct)),
        ("inference_cost_usd", (w, r, ct) => Value(w, r.Charges?.InferenceCostUsd, NpgsqlDbType.Numeric, ct)),
        ("cache_savings_usd", (w, r, ct) => Value(w, r.Charges?.CacheSavingsUsd, NpgsqlDbType.Numeric, ct)),
        ("training_usd_per_token", (w, r, ct) => Value(w, r.Charges?.TrainingUsdPerToken, NpgsqlDbType.Numeric, ct)),
        ("training_share_usd", (w, r, ct) => Value(w, r.Charges?.TrainingShareUsd, NpgsqlDbType.Numeric, ct)),
        ("list_price_reference", (w, r, ct) => Text(w, r.Charges?.ListPriceReference, ct)),
        ("list_input_usd_per_million", (w, r, ct) => Value(w, r.Charges?.ListInputUsdPerMillion, NpgsqlDbType.Numeric, ct)),
        ("list_cached_input_usd_per_million", (w, r, ct) => Value(w, r.Charges?.ListCachedInputUsdPerMillion, NpgsqlDbType.Numeric, ct)),
        ("list_output_usd_per_million", (w, r, ct) => Value(w, r.Charges?.ListOutputUsdPerMillion, NpgsqlDbType.Numeric, ct)),
        ("list_price_usd", (w, r, ct) => Value(w, r.Charges?.ListPriceUsd, NpgsqlDbType.Numeric, ct)),
    ];

    private static readonly string ColumnList = string.Join(", ", Columns.Select(c => c.Name));

    private static readonly string CopySql = $"COPY {PostgresLedgerSchema.Stage} ({ColumnList}) FROM STDIN (FORMAT BINARY)";

    // Rows are inserted and the rollups upserted in key order, so two gateways appending overlapping batches take their
    // row locks in one order (no deadlock between them; one that happens anyway is retried, the statement is atomic).
    // The text is constant (the batch is in the staging table), so it is prepared once per connection.
    private static readonly string AppendSql = $"""
        WITH added AS (
          INSERT INTO usage ({ColumnList}) SELECT {ColumnList} FROM {PostgresLedgerSchema.Stage} ORDER BY request_id
          ON CONFLICT (request_id) DO NOTHING
          RETURNING ts, model, key_id, team, checkpoint, pool, prompt_tokens, cached_tokens, completion_tokens, compute_seconds,
                    cost_usd, inference_cost_usd, cache_savings_usd, training_share_usd, list_price_usd
        ){string.Concat(PostgresLedgerSchema.Rollups.Select(RollupUpsert))}
        SELECT count(*)::integer FROM added
        """;

    private static string RollupUpsert((string Table, string TimeColumn, string Unit, long Seconds) rollup) => $"""
        , {rollup.Table}_added AS (
          INSERT INTO {rollup.Table} AS r ({rollup.TimeColumn}, model, key_id, team, checkpoint, pool, requests, input_tokens, cached_tokens,
                                         output_tokens, compute_seconds, cost_usd, inference_cost_usd, cache_savings_usd,
                                         training_share_usd, list_price_usd)
          SELECT date_trunc('{rollup.Unit}', ts, 'UTC'), model, key_id, team, coalesce(checkpoint, ''), coalesce(pool, ''), count(*),
                 sum(prompt_tokens), sum(cached_tokens), sum(completion_tokens), sum(compute_seconds), sum(cost_usd),
                 coalesce(sum(inference_cost_usd), 0), coalesce(sum(cache_savings_usd), 0), coalesce(sum(training_share_usd), 0),
                 coalesce(sum(list_price_usd), 0)
          FROM added GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
          ON CONFLICT ({rollup.TimeColumn}, model, key_id, team, checkpoint, pool) DO UPDATE SET
            requests = r.requests + excluded.requests, input_tokens = r.input_tokens + excluded.input_tokens,
            cached_tokens = r.cached_tokens + excluded.cached_tokens, output_tokens = r.output_tokens + excluded.output_tokens,
            compute_seconds = r.compute_seconds + excluded.compute_seconds, cost_usd = r.cost_usd + excluded.cost_usd,
            inference_cost_usd = r.inference_cost_usd + excluded.inference_cost_usd,
            cache_savings_usd = r.cache_savings_usd + excluded.cache_savings_usd,
            training_share_usd = r.training_share_usd + excluded.training_share_usd,
            list_price_usd = r.list_price_usd + excluded.list_price_usd
        )
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly SemaphoreSlim _schemaGate = new(1, 1);
    private volatile bool _schemaReady;
    private int _disposed;

    /// <param name="connectionString">Npgsql syntax (<c>Host=...;Database=...;Username=...</c>).</param>
    public PostgresUsageStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // A pooled connection keeps its session (its staging table and prepared append) instead of DISCARD ALL.
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        _dataSource = builder.Build();
    }

    /// <summary>
    /// Creates the tables and indexes if missing (once per store; every operation calls it first). Safe when several
    /// gateways start at once: the DDL runs under an advisory lock.
    /// </summary>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        if (_schemaReady)
        {
            return;
        }

        await _schemaGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_schemaReady)
            {
                return;
            }

            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var command = new NpgsqlCommand(PostgresLedgerSchema.Ddl, connection, transaction))
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            _schemaReady = true;
        }
        finally
        {
            _schemaGate.Release();
        }
    }

    public async Task<int> AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return 0;
        }

        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await AppendOnceAsync(records, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (attempt < MaxAttempts && ex.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // One transaction: the batch is copied (binary COPY) into the session's staging table, then one statement inserts
    // the new rows and adds them to the rollups; the staging table empties itself at commit.
    private async Task<int> AppendOnceAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var stage = new NpgsqlCommand(PostgresLedgerSchema.StageDdl, connection, transaction))
        {
            await stage.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var importer = await connection.BeginBinaryImportAsync(CopySql, cancellationToken).ConfigureAwait(false))
        {
            foreach (var record in records)
            {
                await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                foreach (var column in Columns)
                {
                    await column.Write(importer, record, cancellationToken).ConfigureAwait(false);
                }
            }

            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        int added;
        await using (var append = new NpgsqlCommand(AppendSql, connection, transaction))
        {
            await append.PrepareAsync(cancellationToken).ConfigureAwait(false);
            added = (int)(await append.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added;
    }

    public async Task<IReadOnlyList<UsageRecord>> QueryAsync(UsageQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand($"""
            SELECT {ColumnList} FROM usage
            WHERE (@key::text IS NULL OR key_id = @key) AND (@team::text IS NULL OR team = @team) AND (@since::timestamptz IS NULL OR ts >= @since)
            ORDER BY ts DESC, request_id DESC LIMIT @limit
            """);
        command.Parameters.AddWithValue("key", (object?)query.KeyId ?? DBNull.Value);
        command.Parameters.AddWithValue("team", (object?)query.Team ?? DBNull.Value);
        command.Parameters.AddWithValue("since", (object?)query.Since?.UtcDateTime ?? DBNull.Value);
        command.Parameters.AddWithValue("limit", Math.Clamp(query.Limit, 1, 100_000));
        var list = new List<UsageRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new UsageRecord
            {
                RequestId = reader.GetString(0),
                Timestamp = new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero),
                KeyId = reader.GetString(2),
                Team = reader.GetString(3),
                Model = reader.GetString(4),
                Worker = reader.GetString(5),
                Endpoint = reader.GetString(6),
                Stream = reader.GetBoolean(7),
                PromptTokens = reader.GetInt32(8),
                CachedTokens = reader.GetInt32(9),
                CompletionTokens = reader.GetInt32(10),
                Estimated = reader.GetBoolean(11),
                ComputeSeconds = reader.GetDouble(12),
                LatencyMs = reader.GetDouble(13),
                TimeToFirstTokenMs = reader.IsDBNull(14) ? null : reader.GetDouble(14),
                QueueMs = reader.IsDBNull(15) ? null : reader.GetDouble(15),
                HttpStatus = reader.GetInt32(16),
                Outcome = Enum.Parse<UsageOutcome>(reader.GetString(17), ignoreCase: true),
                FinishReason = reader.IsDBNull(18) ? null : reader.GetString(18),
                CostUsd = reader.GetDecimal(19),
                Charges = reader.IsDBNull(20) ? null : new UsageCharges
                {
                    Pool = reader.GetString(20),
                    Checkpoint = reader.GetString(21),
                    HardwareUsdPerHour = reader.GetDecimal(22),
                    InferenceCostUsd = reader.GetDecimal(23),
                    CacheSavingsUsd = reader.GetDecimal(24),
                    TrainingUsdPerToken = reader.GetDecimal(25),
                    TrainingShareUsd = reader.GetDecimal(26),
                    ListPriceReference = reader.GetString(27),
                    ListInputUsdPerMillion = reader.GetDecimal(28),
                    ListCachedInputUsdPerMillion = reader.GetDecimal(29),
                    ListOutputUsdPerMillion = reader.GetDecimal(30),
                    ListPriceUsd = reader.GetDecimal(31),
                },
            });
        }

        return list;
    }

    public async Task<IReadOnlyList<UsageAggregate>> AggregateAsync(UsageAggregateQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.BucketWidth < TimeSpan.FromSeconds(1) || query.BucketWidth.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentException("The bucket width must be a whole number of seconds.", nameof(query));
        }

        var start = query.Start.ToUniversalTime();
        var end = query.End.ToUniversalTime();
        if (end <= start)
        {
            return [];
        }

        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var width = (long)query.BucketWidth.TotalSeconds;
        var segments = new List<(int Rollup, DateTimeOffset From, DateTimeOffset To)>();
        Split(start, end, 0);

        var groups = new (UsageGrouping Flag, string Column)[]
        {
            (UsageGrouping.Model, "model"), (UsageGrouping.KeyId, "key_id"), (UsageGrouping.Team, "team"),
            (UsageGrouping.Checkpoint, "checkpoint"), (UsageGrouping.Pool, "pool"),
        };
        var select = string.Join(", ", groups.Select(g => query.GroupBy.HasFlag(g.Flag) ? g.Column : "NULL::text"));
        var groupBy = string.Concat(groups.Where(g => query.GroupBy.HasFlag(g.Flag)).Select(g => ", " + g.Column));
        // Ordinal order (as SQLite's), whatever the database's collation.
        var orderBy = string.Concat(groups.Where(g => query.GroupBy.HasFlag(g.Flag)).Select(g => $", {g.Column} COLLATE \"C\""));
        var filters = new StringBuilder();
        await using var command = _dataSource.CreateCommand();
        foreach (var (values, column) in new[] { (query.Teams, "team"), (query.KeyIds, "key_id"), (query.Models, "model") })
        {
            if (values.Count > 0)
            {
                filters.Append(CultureInfo.InvariantCulture, $" AND {column} = ANY(@{column}s)");
                command.Parameters.AddWithValue(column + "s", values.ToArray());
            }
        }

        var branches = segments.Select((segment, i) =>
        {
            command.Parameters.AddWithValue("from" + i.ToString(CultureInfo.InvariantCulture), segment.From.UtcDateTime);
            command.Parameters.AddWithValue("to" + i.ToString(CultureInfo.InvariantCulture), segment.To.UtcDateTime);
            if (segment.Rollup < 0)
            {
                return $"""
                    SELECT ts AS t, model, key_id, team, coalesce(checkpoint, '') AS checkpoint, coalesce(pool, '') AS pool,
                           1::bigint AS requests, prompt_tokens::bigint AS input_tokens, cached_tokens::bigint AS cached_tokens,
                           completion_tokens::bigint AS output_tokens, compute_seconds, cost_usd,
                           coalesce(inference_cost_usd, 0) AS inference_cost_usd, coalesce(cache_savings_usd, 0) AS cache_savings_usd,
                           coalesce(training_share_usd, 0) AS training_share_usd, coalesce(list_price_usd, 0) AS list_price_usd
                    FROM usage WHERE ts >= @from{i} AND ts < @to{i}{filters}
                    """;
            }

            var (table, time, _, _) = PostgresLedgerSchema.Rollups[segment.Rollup];
            return $"""
                SELECT {time} AS t, model, key_id, team, checkpoint, pool, requests, input_tokens, cached_tokens, output_tokens,
                       compute_seconds, cost_usd, inference_cost_usd, cache_savings_usd, training_share_usd, list_price_usd
                FROM {table} WHERE {time} >= @from{i} AND {time} < @to{i}{filters}
                """;
        }).ToList();
        command.CommandText = $"""
            SELECT floor(extract(epoch FROM t) / @width)::bigint * @width, {select},
                   sum(requests)::bigint, sum(input_tokens)::bigint, sum(cached_tokens)::bigint, sum(output_tokens)::bigint,
                   sum(compute_seconds), sum(cost_usd), sum(inference_cost_usd), sum(cache_savings_usd), sum(training_share_usd),
                   sum(list_price_usd)
            FROM ({string.Join("\nUNION ALL\n", branches)}) AS s
            GROUP BY 1{groupBy} ORDER BY 1{orderBy}
            """;
        command.Parameters.AddWithValue("width", width);

        // The whole days inside the range read the daily rollup, the whole hours left at its edges the hourly one, and
        // what is left (under an hour at each end, or everything for minute buckets) the raw rows through the ts index.
        void Split(DateTimeOffset from, DateTimeOffset to, int rollup)
        {
            if (from >= to)
            {
                return;
            }

            if (rollup == PostgresLedgerSchema.Rollups.Length)
            {
                segments.Add((-1, from, to));
                return;
            }

            var unit = PostgresLedgerSchema.Rollups[rollup].Seconds * TimeSpan.TicksPerSecond;
            var first = new DateTimeOffset((from.UtcTicks + unit - 1) / unit * unit, TimeSpan.Zero);
            var last = new DateTimeOffset(to.UtcTicks / unit * unit, TimeSpan.Zero);
            if (width % PostgresLedgerSchema.Rollups[rollup].Seconds != 0 || first >= last)
            {
                Split(from, to, rollup + 1);
                return;
            }

            Split(from, first, rollup + 1);
            segments.Add((rollup, first, last));
            Split(last, to, rollup + 1);
        }

        var list = new List<UsageAggregate>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new UsageAggregate
            {
                BucketStart = DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(0)),
                Model = reader.IsDBNull(1) ? null : reader.GetString(1),
                KeyId = reader.IsDBNull(2) ? null : reader.GetString(2),
                Team = reader.IsDBNull(3) ? null : reader.GetString(3),
                Checkpoint = reader.IsDBNull(4) ? null : reader.GetString(4),
                Pool = reader.IsDBNull(5) ? null : reader.GetString(5),
                Requests = reader.GetInt64(6),
                InputTokens = reader.GetInt64(7),
                CachedTokens = reader.GetInt64(8),
                OutputTokens = reader.GetInt64(9),
                ComputeSeconds = reader.GetDouble(10),
                CostUsd = reader.GetDecimal(11),
                InferenceCostUsd = reader.GetDecimal(12),
                CacheSavingsUsd = reader.GetDecimal(13),
                TrainingShareUsd = reader.GetDecimal(14),
                ListPriceUsd = reader.GetDecimal(15),
            });
        }

        return list;
    }

    public async Task RecordUptimeAsync(PoolUptime uptime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uptime);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO pool_uptime AS u (pool, instance_id, start_ts, end_ts, hardware_usd_per_hour)
            VALUES (@pool, @instance, @start, @end, @price)
            ON CONFLICT (pool, instance_id) DO UPDATE SET
              start_ts = least(u.start_ts, excluded.start_ts), end_ts = greatest(u.end_ts, excluded.end_ts),
              hardware_usd_per_hour = excluded.hardware_usd_per_hour
            """);
        command.Parameters.AddWithValue("pool", uptime.Pool);
        command.Parameters.AddWithValue("instance", uptime.InstanceId);
        command.Parameters.AddWithValue("start", uptime.Start.UtcDateTime);
        command.Parameters.AddWithValue("end", uptime.End.UtcDateTime);
        command.Parameters.AddWithValue("price", uptime.HardwareUsdPerHour);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<PoolUptime>> UptimeAsync(DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand("""
            SELECT pool, instance_id, start_ts, end_ts, hardware_usd_per_hour FROM pool_uptime
            WHERE start_ts < @end AND end_ts > @start ORDER BY start_ts, pool, instance_id
            """);
        command.Parameters.AddWithValue("start", start.UtcDateTime);
        command.Parameters.AddWithValue("end", end.UtcDateTime);
        var list = new List<PoolUptime>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new PoolUptime
            {
                Pool = reader.GetString(0),
                InstanceId = reader.GetString(1),
                Start = new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero),
                End = new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero),
                HardwareUsdPerHour = reader.GetDecimal(4),
            });
        }

        return list;
    }

    private static Task Text(NpgsqlBinaryImporter importer, string? value, CancellationToken cancellationToken) =>
        value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);

    private static Task Value<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : struct =>
        value is { } v ? importer.WriteAsync(v, type, cancellationToken) : importer.WriteNullAsync(cancellationToken);

    private static string OutcomeName(UsageOutcome outcome) => outcome switch
    {
        UsageOutcome.Completed => "completed",
        UsageOutcome.Cancelled => "cancelled",
        UsageOutcome.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };

    public async ValueTask DisposeAsync()
    {
        // The container may dispose it twice (registered keyed and as the IUsageStore it forwards to).
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
            _schemaGate.Dispose();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _dataSource.Dispose();
            _schemaGate.Dispose();
        }
    }
}
