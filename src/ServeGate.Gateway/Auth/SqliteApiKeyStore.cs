using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Auth;

/// <summary>
/// API keys of a single gateway in a SQLite file, served from an in-memory snapshot. A revoked key stops working at
/// once (the snapshot is swapped before <see cref="RevokeAsync"/> returns). Replicas share keys through
/// <see cref="RedisApiKeyStore"/> instead.
/// </summary>
internal sealed class SqliteApiKeyStore : IApiKeyStore
{
    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Dictionary<string, ApiKey> _byHash = new(StringComparer.Ordinal);

    // Revoked keys stay in the table, marked, for the audit trail of the usage ledger, and still count here.
    private bool _hasKeys;

    public SqliteApiKeyStore(IOptions<GatewayOptions> options, IOptions<MeteringOptions> metering, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metering);
        _time = time;
        var path = options.Value.KeyStorePath is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.Combine(Path.GetDirectoryName(metering.Value.ResolveDatabasePath())!, "keys.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS api_keys (
              id TEXT PRIMARY KEY,
              hash BLOB NOT NULL UNIQUE,
              prefix TEXT NOT NULL,
              name TEXT NOT NULL,
              team TEXT NOT NULL,
              models TEXT NOT NULL,
              tokens_per_minute INTEGER,
              requests_per_minute INTEGER,
              budget_usd TEXT,
              budget_period TEXT NOT NULL,
              created_unix INTEGER NOT NULL,
              revoked_unix INTEGER);
            """;
        command.ExecuteNonQuery();
        Reload(connection);
    }

    public ValueTask<bool> HasKeysAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Volatile.Read(ref _hasKeys));

    public ValueTask<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(ApiKey.Ordered(Volatile.Read(ref _byHash).Values));

    public ValueTask<ApiKey?> FindAsync(string secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var hash = ApiKey.HashOf(secret);
        return ValueTask.FromResult(Volatile.Read(ref _byHash).TryGetValue(Convert.ToHexString(hash), out var key) && key.Matches(hash) ? key : null);
    }

    public ValueTask<(ApiKey Key, string Secret)> CreateAsync(CreateKeyRequest request, CancellationToken cancellationToken)
    {
        var key = ApiKey.New(request, _time.GetUtcNow(), out var secret);
        lock (_gate)
        {
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO api_keys (id, hash, prefix, name, team, models, tokens_per_minute, requests_per_minute, budget_usd, budget_period, created_unix)
                VALUES ($id, $hash, $prefix, $name, $team, $models, $tpm, $rpm, $budget, $period, $created)
                """;
            command.Parameters.AddWithValue("$id", key.Id);
            command.Parameters.AddWithValue("$hash", key.Hash);
            command.Parameters.AddWithValue("$prefix", key.Prefix);
            command.Parameters.AddWithValue("$name", key.Name);
            command.Parameters.AddWithValue("$team", key.Team);
            command.Parameters.AddWithValue("$models", string.Join('\n', key.Models));
            command.Parameters.AddWithValue("$tpm", (object?)key.TokensPerMinute ?? DBNull.Value);
            command.Parameters.AddWithValue("$rpm", (object?)key.RequestsPerMinute ?? DBNull.Value);
            command.Parameters.AddWithValue("$budget", (object?)key.BudgetUsd?.ToString(CultureInfo.InvariantCulture) ?? DBNull.Value);
            command.Parameters.AddWithValue("$period", key.BudgetPeriod.ToString().ToLowerInvariant());
            command.Parameters.AddWithValue("$created", key.CreatedAt.ToUnixTimeSeconds());
            command.ExecuteNonQuery();
            Reload(connection);
        }

        return ValueTask.FromResult((key, secret));
    }

    public ValueTask<bool> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE api_keys SET revoked_unix = $now WHERE id = $id AND revoked_unix IS NULL";
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeSeconds());
            var deleted = command.ExecuteNonQuery() > 0;
            Reload(connection);
            return ValueTask.FromResult(deleted);
        }
    }

    private void Reload(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, hash, prefix, name, team, models, tokens_per_minute, requests_per_minute, budget_usd, budget_period, created_unix, revoked_unix FROM api_keys";
        var keys = new Dictionary<string, ApiKey>(StringComparer.Ordinal);
        using var reader = command.ExecuteReader();
        var any = false;
        while (reader.Read())
        {
            any = true;
            if (!reader.IsDBNull(11))
            {
                continue;
            }

            var hash = (byte[])reader.GetValue(1);
            keys[Convert.ToHexString(hash)] = new ApiKey
            {
                Id = reader.GetString(0),
                Hash = hash,
                Prefix = reader.GetString(2),
                Name = reader.GetString(3),
                Team = reader.GetString(4),
                Models = reader.GetString(5).Split('\n', StringSplitOptions.RemoveEmptyEntries),
                TokensPerMinute = reader.IsDBNull(6) ? null : reader.GetInt32(6),
                RequestsPerMinute = reader.IsDBNull(7) ? null : reader.GetInt32(7),
                BudgetUsd = reader.IsDBNull(8) ? null : decimal.Parse(reader.GetString(8), CultureInfo.InvariantCulture),
                BudgetPeriod = reader.GetString(9) == "day" ? BudgetPeriod.Day : BudgetPeriod.Month,
                CreatedAt = DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(10)),
            };
        }

        Volatile.Write(ref _byHash, keys);
        Volatile.Write(ref _hasKeys, any);
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }
}
