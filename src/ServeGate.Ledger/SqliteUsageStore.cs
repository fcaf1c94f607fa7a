using System.Globalization;
using Microsoft.Data.Sqlite;

namespace ServeGate.Ledger;

/// <summary>
/// The usage ledger in one SQLite file (WAL mode, one transaction per batch). Only the <see cref="UsageWriter"/>'s
/// single reader appends, so writes never contend; queries open their own connection.
/// </summary>
public sealed class SqliteUsageStore : IUsageStore
{
    private const string Columns =
        "request_id, ts_unix_ms, key_id, team, model, worker, endpoint, stream, prompt_tokens, cached_tokens, completion_tokens, " +
        "estimated, compute_seconds, latency_ms, ttft_ms, queue_ms, http_status, outcome, finish_reason, cost_usd";

    private readonly string _connectionString;

    public SqliteUsageStore(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
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
            CREATE INDEX IF NOT EXISTS usage_key_ts ON usage (key_id, ts_unix_ms);
            CREATE INDEX IF NOT EXISTS usage_team_ts ON usage (team, ts_unix_ms);
            """;
        command.ExecuteNonQuery();
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

        await using var connection = Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"INSERT INTO usage ({Columns}) VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9, $p10, $p11, $p12, $p13, $p14, $p15, $p16, $p17, $p18, $p19)";
        var parameters = new SqliteParameter[20];
        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i] = command.Parameters.Add("$p" + i.ToString(CultureInfo.InvariantCulture), SqliteType.Text);
        }

        foreach (var r in records)
        {
            object?[] values =
            [
                r.RequestId, r.Timestamp.ToUnixTimeMilliseconds(), r.KeyId, r.Team, r.Model, r.Worker, r.Endpoint, r.Stream ? 1 : 0,
                r.PromptTokens, r.CachedTokens, r.CompletionTokens, r.Estimated ? 1 : 0, r.ComputeSeconds, r.LatencyMs,
                r.TimeToFirstTokenMs, r.QueueMs, r.HttpStatus, r.Outcome.ToString().ToLowerInvariant(), r.FinishReason,
                r.CostUsd.ToString(CultureInfo.InvariantCulture),
            ];
            for (var i = 0; i < values.Length; i++)
            {
                parameters[i].Value = values[i] ?? DBNull.Value;
                parameters[i].SqliteType = values[i] switch
                {
                    long or int => SqliteType.Integer,
                    double => SqliteType.Real,
                    _ => SqliteType.Text,
                };
            }

            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return records.Count;
    }

    // Being built on feat/ledger (aggregates with rollups, up-time); nothing calls these yet.
    public Task<IReadOnlyList<UsageAggregate>> AggregateAsync(UsageAggregateQuery query, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Aggregates are not built yet.");

    public Task RecordUptimeAsync(PoolUptime uptime, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Up-time is not built yet.");

    public Task<IReadOnlyList<PoolUptime>> UptimeAsync(DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Up-time is not built yet.");

    public async Task<IReadOnlyList<UsageRecord>> QueryAsync(UsageQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {Columns} FROM usage
            WHERE ($key IS NULL OR key_id = $key) AND ($team IS NULL OR team = $team) AND ($since IS NULL OR ts_unix_ms >= $since)
            ORDER BY id DESC LIMIT $limit
            """;
        command.Parameters.AddWithValue("$key", (object?)query.KeyId ?? DBNull.Value);
        command.Parameters.AddWithValue("$team", (object?)query.Team ?? DBNull.Value);
        command.Parameters.AddWithValue("$since", (object?)query.Since?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        command.Parameters.AddWithValue("$limit", Math.Clamp(query.Limit, 1, 100_000));
        var list = new List<UsageRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new UsageRecord
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
                CostUsd = decimal.Parse(reader.GetString(19), CultureInfo.InvariantCulture),
            });
        }

        return list;
    }
}
