using ServeGate.Metering;

namespace ServeGate.Gateway.Admin;

/// <summary>The <c>/admin</c> endpoints: usage records (and API keys).</summary>
internal static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin");
        admin.MapGet("/usage", ListUsageAsync);
        return endpoints;
    }

    private static async Task<IResult> ListUsageAsync(IUsageStore store, string? key_id, string? team, int? limit, CancellationToken cancellationToken)
    {
        var records = await store.QueryAsync(new UsageQuery { KeyId = key_id, Team = team, Limit = limit ?? 100 }, cancellationToken).ConfigureAwait(false);
        return TypedResults.Json(new UsageList { Data = records }, GatewayJsonContext.Default.UsageList);
    }
}

internal sealed class UsageList
{
    public string Object { get; init; } = "list";

    public required IReadOnlyList<UsageRecord> Data { get; init; }
}
