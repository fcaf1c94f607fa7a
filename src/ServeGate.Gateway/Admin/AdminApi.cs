using System.Text.Json;
using ServeGate.Core.OpenAi;
using ServeGate.Gateway.Auth;
using ServeGate.Gateway.Routing;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Admin;

/// <summary>
/// The <c>/admin</c> endpoints, behind the admin key (<see cref="AccessPolicy.IsAdmin"/>): API keys (the secret is
/// shown once, in the answer to its creation) and usage records.
/// </summary>
internal static partial class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin").AddEndpointFilter(async (context, next) =>
        {
            var policy = context.HttpContext.RequestServices.GetRequiredService<AccessPolicy>();
            return policy.IsAdmin(AccessPolicy.Bearer(context.HttpContext))
                ? await next(context).ConfigureAwait(false)
                : Error(new ApiError(StatusCodes.Status401Unauthorized, "The admin API needs the admin key (ServeGate:Gateway:AdminKey or SERVEGATE_ADMIN_KEY) as 'Authorization: Bearer'.", "invalid_request_error", null, "invalid_api_key"));
        });
        admin.MapPost("/keys", CreateKeyAsync);
        admin.MapGet("/keys", ListKeysAsync);
        admin.MapDelete("/keys/{id}", RevokeKeyAsync);
        admin.MapGet("/usage", ListUsageAsync);
        admin.MapGet("/workers", (WorkerPool pool) => TypedResults.Json(new WorkerList { Data = [.. pool.Destinations.Select(WorkerView.Of)] }, GatewayJsonContext.Default.WorkerList));
        admin.MapPost("/workers", AddWorkerAsync);
        admin.MapDelete("/workers", RemoveWorker);
        return endpoints;
    }

    private static async Task<IResult> AddWorkerAsync(HttpRequest http, WorkerPool pool, ILoggerFactory loggers)
    {
        if (!pool.IsRemote)
        {
            return Error(new ApiError(StatusCodes.Status409Conflict,
                "This gateway runs its worker in-process; start it with ServeGate:Gateway:Workers (or --worker) to route to remote workers.",
                "invalid_request_error", null, "embedded_worker"));
        }

        WorkerEndpoint? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(http.Body, GatewayJsonContext.Default.WorkerEndpoint, http.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body is null || !body.HasHttpUrl || body.Models.Count == 0 || body.Models.Any(string.IsNullOrWhiteSpace))
        {
            return Error(ApiError.InvalidRequest("The body must be {\"url\": \"http://host:port\", \"models\": [\"model id\", ...], \"pool\": \"optional pool name\"} with an absolute http(s) URL and at least one model."));
        }

        var added = pool.Add(body.Url, [.. body.Models], body.Pool);
        Log.WorkerAdded(loggers.CreateLogger(typeof(AdminApi).FullName!), body.Url, string.Join(',', body.Models));
        return TypedResults.Json(WorkerView.Of(added), GatewayJsonContext.Default.WorkerView, statusCode: StatusCodes.Status201Created);
    }

    private static IResult RemoveWorker(string? url, WorkerPool pool, ILoggerFactory loggers)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return Error(ApiError.InvalidRequest("Name the worker to remove: DELETE /admin/workers?url=http://host:port"));
        }

        if (!pool.Remove(url))
        {
            return Error(new ApiError(StatusCodes.Status404NotFound, $"No worker has the URL '{url}'.", "invalid_request_error", "url", "worker_not_found"));
        }

        Log.WorkerRemoved(loggers.CreateLogger(typeof(AdminApi).FullName!), url);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ListKeysAsync(IApiKeyStore keys, CancellationToken cancellationToken)
    {
        try
        {
            var all = await keys.ListAsync(cancellationToken).ConfigureAwait(false);
            return TypedResults.Json(new KeyList { Data = [.. all.Select(k => KeyView.Of(k))] }, GatewayJsonContext.Default.KeyList);
        }
        catch (KeyStoreUnavailableException ex)
        {
            return Unavailable(ex);
        }
    }

    private static async Task<IResult> CreateKeyAsync(HttpRequest http, IApiKeyStore keys, ILoggerFactory loggers)
    {
        CreateKeyRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(http.Body, GatewayJsonContext.Default.CreateKeyRequest, http.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body is null)
        {
            return Error(ApiError.InvalidRequest("The body must be a JSON object: {\"name\", \"team\", \"models\", \"tokens_per_minute\", \"requests_per_minute\", \"budget_usd\", \"budget_period\"}."));
        }

        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(body.Name))
        {
            errors.Add("name is required");
        }

        if (string.IsNullOrWhiteSpace(body.Team))
        {
            errors.Add("team is required");
        }

        if (body.TokensPerMinute is < 1 || body.RequestsPerMinute is < 1 || body.BudgetUsd is < 0)
        {
            errors.Add("limits must be positive");
        }

        if (body.BudgetPeriod is not (null or "day" or "month"))
        {
            errors.Add("budget_period must be day or month");
        }

        if (errors.Count > 0)
        {
            return Error(ApiError.InvalidRequest(string.Join("; ", errors) + "."));
        }

        ApiKey key;
        string secret;
        try
        {
            (key, secret) = await keys.CreateAsync(body, http.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (KeyStoreUnavailableException ex)
        {
            return Unavailable(ex);
        }

        Log.KeyCreated(loggers.CreateLogger(typeof(AdminApi).FullName!), key.Id, key.Team);
        return TypedResults.Json(KeyView.Of(key, secret), GatewayJsonContext.Default.KeyView, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> RevokeKeyAsync(string id, IApiKeyStore keys, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        bool revoked;
        try
        {
            revoked = await keys.RevokeAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (KeyStoreUnavailableException ex)
        {
            return Unavailable(ex);
        }

        if (!revoked)
        {
            return Error(new ApiError(StatusCodes.Status404NotFound, $"No API key has the id '{id}'.", "invalid_request_error", "id", "key_not_found"));
        }

        Log.KeyRevoked(loggers.CreateLogger(typeof(AdminApi).FullName!), id);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ListUsageAsync(IUsageStore store, string? key_id, string? team, int? limit, CancellationToken cancellationToken)
    {
        var records = await store.QueryAsync(new UsageQuery { KeyId = key_id, Team = team, Limit = limit ?? 100 }, cancellationToken).ConfigureAwait(false);
        return TypedResults.Json(new UsageList { Data = records }, GatewayJsonContext.Default.UsageList);
    }

    private static IResult Unavailable(KeyStoreUnavailableException ex) =>
        Error(ApiError.Unavailable("The API key store is unavailable: " + ex.Message, "key_store_unavailable"));

    private static IResult Error(ApiError error) => TypedResults.Json(error.ToEnvelope(), OpenAiJson.Context.ErrorEnvelope, statusCode: error.Status);

    private static partial class Log
    {
        [LoggerMessage(EventId = GatewayLogEvents.KeyCreated, Level = LogLevel.Information, Message = "API key {KeyId} created for team {Team}.")]
        public static partial void KeyCreated(ILogger logger, string keyId, string team);

        [LoggerMessage(EventId = GatewayLogEvents.KeyRevoked, Level = LogLevel.Information, Message = "API key {KeyId} revoked.")]
        public static partial void KeyRevoked(ILogger logger, string keyId);

        [LoggerMessage(EventId = GatewayLogEvents.WorkerAdded, Level = LogLevel.Information, Message = "Worker {Worker} added for {Models} (admin API).")]
        public static partial void WorkerAdded(ILogger logger, string worker, string models);

        [LoggerMessage(EventId = GatewayLogEvents.WorkerRemoved, Level = LogLevel.Information, Message = "Worker {Worker} removed (admin API); its requests in flight finish.")]
        public static partial void WorkerRemoved(ILogger logger, string worker);
    }
}

/// <summary>A remote worker as <c>GET /admin/workers</c> shows it.</summary>
internal sealed class WorkerView
{
    public required string Url { get; init; }

    public required IReadOnlyList<string> Models { get; init; }

    public bool Healthy { get; init; }

    /// <summary>The pool its hardware is priced as (economics).</summary>
    public required string Pool { get; init; }

    /// <summary>Requests in flight on it from this gateway.</summary>
    public int Outstanding { get; init; }

    public static WorkerView Of(WorkerDestination destination) => new()
    {
        Url = destination.Url,
        Models = destination.Models,
        Healthy = destination.Healthy,
        Pool = destination.Pool,
        Outstanding = destination.Outstanding,
    };
}

internal sealed class WorkerList
{
    public string Object { get; init; } = "list";

    public required IReadOnlyList<WorkerView> Data { get; init; }
}

internal sealed class UsageList
{
    public string Object { get; init; } = "list";

    public required IReadOnlyList<UsageRecord> Data { get; init; }
}
