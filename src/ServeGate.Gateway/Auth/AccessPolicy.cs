using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace ServeGate.Gateway.Auth;

/// <summary>
/// Who may call without a key. Open local mode: no key exists and the listener is loopback-only, so every request
/// belongs to the <c>local</c> account. On any other address the gateway refuses to start without keys unless
/// <c>ServeGate:Gateway:AllowAnonymous</c> is true, or an admin key is set (a container's first start: the operator
/// creates keys through <c>/admin/keys</c>; until then every <c>/v1</c> request gets 401).
/// </summary>
internal sealed class AccessPolicy
{
    /// <summary>The environment variable that may hold the admin key instead of <c>ServeGate:Gateway:AdminKey</c>.</summary>
    public const string AdminKeyEnvironmentVariable = "SERVEGATE_ADMIN_KEY";

    private readonly byte[]? _adminKeyHash;

    public AccessPolicy(IConfiguration configuration, IOptions<GatewayOptions> options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        var host = configuration["ServeGate:Host"] is { Length: > 0 } h ? h : "127.0.0.1";
        IsLoopbackOnly = IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
        AllowAnonymous = options.Value.AllowAnonymous;
        var adminKey = options.Value.AdminKey is { Length: > 0 } configured ? configured : Environment.GetEnvironmentVariable(AdminKeyEnvironmentVariable);
        _adminKeyHash = string.IsNullOrEmpty(adminKey) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(adminKey));
        Port = int.TryParse(configuration["ServeGate:Port"], NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : 8080;
    }

    public bool IsLoopbackOnly { get; }

    public bool AllowAnonymous { get; }

    public int Port { get; }

    /// <summary>Whether requests without a key are served while no key exists.</summary>
    public bool OpenWithoutKeys => IsLoopbackOnly || AllowAnonymous;

    /// <summary>
    /// The caller's key: <see cref="ApiKey.Local"/> while requests without a key are served and none exists yet, else
    /// the key of <paramref name="bearer"/> (null: no bearer, or not a live key). Throws
    /// <see cref="KeyStoreUnavailableException"/> when the store cannot answer.
    /// </summary>
    public async Task<ApiKey?> FindCallerAsync(IApiKeyStore keys, string? bearer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return OpenWithoutKeys && !await keys.HasKeysAsync(cancellationToken).ConfigureAwait(false)
            ? ApiKey.Local
            : bearer is null ? null : await keys.FindAsync(bearer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether an admin key is configured (<c>ServeGate:Gateway:AdminKey</c> or <c>SERVEGATE_ADMIN_KEY</c>).</summary>
    public bool HasAdminKey => _adminKeyHash is not null;

    /// <summary>The admin API: the admin key when one is configured; else open on loopback, closed elsewhere.</summary>
    public bool IsAdmin(string? bearer)
    {
        if (_adminKeyHash is null)
        {
            return IsLoopbackOnly;
        }

        return bearer is not null && CryptographicOperations.FixedTimeEquals(_adminKeyHash, SHA256.HashData(Encoding.UTF8.GetBytes(bearer)));
    }

    /// <summary>The token of an <c>Authorization: Bearer</c> header, or null.</summary>
    public static string? Bearer(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }
}

/// <summary>
/// Refuses to start a gateway on a public address that nobody could use: no API key exists and none can be created
/// remotely (no admin key). With an admin key it starts and says that every request is refused until a key exists.
/// </summary>
internal sealed partial class OpenAccessGuard(AccessPolicy policy, IApiKeyStore keys, ILogger<OpenAccessGuard> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (policy.OpenWithoutKeys || await keys.HasKeysAsync(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        if (policy.HasAdminKey)
        {
            Log.NoKeysYet(logger);
            return;
        }

        throw new OptionsValidationException(GatewayOptions.SectionName, typeof(GatewayOptions),
        [
            "The gateway listens on a non-loopback address and no API key exists: set an admin key (SERVEGATE_ADMIN_KEY) and create keys " +
            "with POST /admin/keys, create them first on a loopback listener with the same ServeGate:Gateway:KeyStorePath (or the same " +
            "Redis), or set ServeGate:Gateway:AllowAnonymous=true.",
        ]);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = GatewayLogEvents.NoApiKeysYet, Level = LogLevel.Warning,
            Message = "No API key exists yet: every /v1 request gets 401 until one is created with POST /admin/keys (admin key required).")]
        public static partial void NoKeysYet(ILogger logger);
    }
}
