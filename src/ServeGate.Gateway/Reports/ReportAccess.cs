using ServeGate.Core.OpenAi;
using ServeGate.Gateway.Auth;

namespace ServeGate.Gateway.Reports;

/// <summary>
/// Who may read the reports (usage, costs, economics): the admin key or open local mode sees everything; a team's API
/// key sees its own team (a project) and nothing else.
/// </summary>
internal static class ReportAccess
{
    /// <summary>Whose usage a caller may read: everything, or one team's.</summary>
    internal sealed record Scope(string? Team)
    {
        public bool All => Team is null;

        /// <summary>The teams to read: the requested ones within the scope; empty when none of them is the caller's.</summary>
        public (IReadOnlyList<string> Teams, bool Nothing) Teams(IReadOnlyList<string> requested) =>
            All ? (requested, false)
            : requested.Count == 0 || requested.Contains(Team!, StringComparer.Ordinal) ? ([Team!], false)
            : ([], true);
    }

    /// <summary>The caller's scope, or the error to answer with (401 without a usable key, 503 when keys cannot be checked).</summary>
    public static async Task<(Scope? Scope, IResult? Error)> AuthorizeAsync(HttpContext context, AccessPolicy policy, IApiKeyStore keys)
    {
        var bearer = AccessPolicy.Bearer(context);
        if (policy.IsAdmin(bearer))
        {
            return (new Scope(null), null);
        }

        try
        {
            var key = await policy.FindCallerAsync(keys, bearer, context.RequestAborted).ConfigureAwait(false);
            return key is null
                ? (null, UsageApi.Error(new ApiError(StatusCodes.Status401Unauthorized, "The usage and costs APIs need the admin key or a team's API key as 'Authorization: Bearer'.", "invalid_request_error", null, "invalid_api_key")))
                : (new Scope(key.Team), null);
        }
        catch (KeyStoreUnavailableException)
        {
            return (null, UsageApi.Error(ApiError.Unavailable("API keys cannot be verified right now; retry later.", "key_store_unavailable")));
        }
    }
}
