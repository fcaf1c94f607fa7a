using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace ServeGate.Gateway.Auth;

/// <summary>A budget's period: it resets at the start of each UTC day or month.</summary>
public enum BudgetPeriod
{
    Day,
    Month,
}

/// <summary>An API key as stored: never the secret, only its SHA-256.</summary>
public sealed record ApiKey
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Team { get; init; }

    /// <summary>Models the key may use; empty: every model.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    public int? TokensPerMinute { get; init; }

    public int? RequestsPerMinute { get; init; }

    public decimal? BudgetUsd { get; init; }

    public BudgetPeriod BudgetPeriod { get; init; } = BudgetPeriod.Month;

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The first characters of the secret (<c>sg-abcd</c>), so people can tell their keys apart.</summary>
    public required string Prefix { get; init; }

    internal byte[] Hash { get; init; } = [];

    public bool Allows(string model) => Models.Count == 0 || Models.Contains(model, StringComparer.Ordinal);

    /// <summary>Whether <paramref name="hash"/> (of a presented secret) is this key's, compared in constant time.</summary>
    internal bool Matches(ReadOnlySpan<byte> hash) => CryptographicOperations.FixedTimeEquals(Hash, hash);

    internal static byte[] HashOf(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>
    /// A new key for <paramref name="request"/> (validated by the admin API) and its secret: <c>sg-</c> and 32 random
    /// bytes in base64url, which only the caller of the admin API ever sees.
    /// </summary>
    internal static ApiKey New(CreateKeyRequest request, DateTimeOffset now, out string secret)
    {
        ArgumentNullException.ThrowIfNull(request);
        Span<byte> random = stackalloc byte[32];
        RandomNumberGenerator.Fill(random);
        secret = "sg-" + Base64Url.EncodeToString(random);
        return new ApiKey
        {
            Id = "key_" + RandomNumberGenerator.GetHexString(16, lowercase: true),
            Name = request.Name!,
            Team = request.Team!,
            Models = request.Models ?? [],
            TokensPerMinute = request.TokensPerMinute,
            RequestsPerMinute = request.RequestsPerMinute,
            BudgetUsd = request.BudgetUsd,
            BudgetPeriod = string.Equals(request.BudgetPeriod, "day", StringComparison.OrdinalIgnoreCase) ? BudgetPeriod.Day : BudgetPeriod.Month,
            CreatedAt = now,
            Prefix = secret[..7],
            Hash = HashOf(secret),
        };
    }

    /// <summary>Keys in the order the admin API lists them: oldest first.</summary>
    internal static IReadOnlyList<ApiKey> Ordered(IEnumerable<ApiKey> keys) =>
        [.. keys.OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal)];

    /// <summary>The account of open local mode: no key exists and the listener is loopback-only.</summary>
    public static ApiKey Local { get; } = new() { Id = "local", Name = "local", Team = "local", CreatedAt = DateTimeOffset.UnixEpoch, Prefix = string.Empty };
}

/// <summary>What <c>POST /admin/keys</c> takes.</summary>
public sealed class CreateKeyRequest
{
    public string? Name { get; set; }

    public string? Team { get; set; }

    public List<string>? Models { get; set; }

    public int? TokensPerMinute { get; set; }

    public int? RequestsPerMinute { get; set; }

    public decimal? BudgetUsd { get; set; }

    /// <summary><c>day</c> or <c>month</c> (default).</summary>
    public string? BudgetPeriod { get; set; }
}

/// <summary>A key as the admin API shows it; <see cref="Key"/> (the secret) only in the answer to its creation.</summary>
public sealed class KeyView
{
    public required string Id { get; init; }

    public string? Key { get; init; }

    public required string Name { get; init; }

    public required string Team { get; init; }

    public required IReadOnlyList<string> Models { get; init; }

    public int? TokensPerMinute { get; init; }

    public int? RequestsPerMinute { get; init; }

    public decimal? BudgetUsd { get; init; }

    public required string BudgetPeriod { get; init; }

    public required string Prefix { get; init; }

    public long CreatedAt { get; init; }

    public static KeyView Of(ApiKey key, string? secret = null) => new()
    {
        Id = key.Id,
        Key = secret,
        Name = key.Name,
        Team = key.Team,
        Models = key.Models,
        TokensPerMinute = key.TokensPerMinute,
        RequestsPerMinute = key.RequestsPerMinute,
        BudgetUsd = key.BudgetUsd,
        BudgetPeriod = key.BudgetPeriod.ToString().ToLowerInvariant(),
        Prefix = key.Prefix,
        CreatedAt = key.CreatedAt.ToUnixTimeSeconds(),
    };
}

public sealed class KeyList
{
    public string Object { get; init; } = "list";

    public required IReadOnlyList<KeyView> Data { get; init; }
}
