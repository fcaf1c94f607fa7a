using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using ServeGate.Metering;

namespace ServeGate.Gateway.Auth;

/// <summary>
/// API keys in a SQLite file, served from an in-memory snapshot. Secrets are random (<c>sg-</c> + 32 bytes base64url),
/// returned once at creation and stored only as SHA-256 hashes; lookups compare hashes in constant time. A revoked key
/// stops working at once on this gateway (the snapshot is swapped before <see cref="Revoke"/> returns).
/// </summary>
internal sealed class ApiKeyStore
{
    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Dictionary<string, ApiKey> _byHash = new(StringComparer.Ordinal);

    public ApiKeyStore(IOptions<GatewayOptions> options, IOptions<MeteringOptions> metering, TimeProvider time)
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

    /// <summary>
    /// True once a key was ever created (then every request needs one): revoking the last key does not reopen the
    /// gateway. Revoked keys stay in the table, marked, for the audit trail of the usage ledger.
    /// </summary>
    public bool HasKeys { get; private set; }

    public IReadOnlyList<ApiKey> All => [.. Volatile.Read(ref _byHash).Values.OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal)];

    /// <summary>The key whose secret this is, or null.</summary>
    public ApiKey? Find(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var hash = Hash(secret);
        return Volatile.Read(ref _byHash).TryGetValue(Convert.ToHexString(hash), out var key) && CryptographicOperations.FixedTimeEquals(key.Hash, hash)
            ? key
            : null;
    }

    public ApiKey Create(CreateKeyRequest request, out string secret)
    {
        ArgumentNullException.ThrowIfNull(request);
        Span<byte> random = stackalloc byte[32];
        RandomNumberGenerator.Fill(random);
        secret = "sg-" + Base64Url.EncodeToString(random);
        var key = new ApiKey
        {
            Id = "key_" + RandomNumberGenerator.GetHexString(16, lowercase: true),
            Name = request.Name!,
            Team = request.Team!,
            Models = request.Models ?? [],
            TokensPerMinute = request.TokensPerMinute,
            RequestsPerMinute = request.RequestsPerMinute,
            BudgetUsd = request.BudgetUsd,
            BudgetPeriod = string.Equals(request.BudgetPeriod, "day", StringComparison.OrdinalIgnoreCase) ? BudgetPeriod.Day : BudgetPeriod.Month,
            CreatedAt = _time.GetUtcNow(),
            Prefix = secret[..7],
            Hash = Hash(secret),
        };
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

        return key;
    }

    /// <summary>Revokes a key; false when there was no live key with this id.</summary>
    public bool Revoke(string id)
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
            return deleted;
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
        HasKeys = any;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
