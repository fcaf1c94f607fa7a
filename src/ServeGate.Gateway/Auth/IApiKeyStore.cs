namespace ServeGate.Gateway.Auth;

/// <summary>
/// Where API keys live: <see cref="SqliteApiKeyStore"/> for a single gateway, <see cref="RedisApiKeyStore"/> when
/// replicas share Redis (<c>ServeGate:Gateway:Limits:Store=Redis</c>). Secrets are never stored, only their SHA-256.
/// </summary>
internal interface IApiKeyStore
{
    /// <summary>
    /// True once a key was ever created (then every request needs one): revoking the last key does not reopen the gateway.
    /// </summary>
    ValueTask<bool> HasKeysAsync(CancellationToken cancellationToken);

    /// <summary>The live keys, oldest first.</summary>
    ValueTask<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken);

    /// <summary>The live key whose secret this is, or null.</summary>
    /// <exception cref="KeyStoreUnavailableException">The store cannot be reached and the key cannot be vouched for.</exception>
    ValueTask<ApiKey?> FindAsync(string secret, CancellationToken cancellationToken);

    /// <summary>Creates a key; the secret is returned here and never again.</summary>
    ValueTask<(ApiKey Key, string Secret)> CreateAsync(CreateKeyRequest request, CancellationToken cancellationToken);

    /// <summary>Revokes a key, at once for every gateway sharing the store; false when there was no live key with this id.</summary>
    ValueTask<bool> RevokeAsync(string id, CancellationToken cancellationToken);
}

/// <summary>The key store cannot be reached.</summary>
internal sealed class KeyStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
