using System.Globalization;
using System.Net.Http.Json;
using ServeGate.Core.OpenAi;
using ServeGate.Gateway.Pipeline;
using ServeGate.Gateway.Routing;
using ServeGate.Worker.Api;

namespace ServeGate.Gateway.Metering;

/// <summary>
/// Asks the worker that served a request for its exact usage when the response did not carry it (the client left
/// before the usage chunk): the in-process worker's <see cref="FinalUsageRegistry"/> directly, a remote worker through
/// <c>GET /internal/usage/{id}</c>. The worker waits for the cancelled generation to wind down (one decode step).
/// </summary>
internal sealed class WorkerUsageLookup(IServiceProvider services, IHttpClientFactory clients)
{
    /// <summary>How long the worker may take to stop a cancelled generation and report it.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private readonly FinalUsageRegistry? _local = services.GetService<FinalUsageRegistry>();

    /// <summary>The exact usage, or null (unknown to the worker, not finished in time, or the worker unreachable).</summary>
    public async Task<Usage?> FindAsync(GatewayRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Worker == GatewayRequest.LocalWorker)
        {
            return _local is null ? null : await _local.WaitAsync(request.RequestId, Wait, CancellationToken.None).ConfigureAwait(false);
        }

        var client = clients.CreateClient(WorkerHealthProbe.ClientName);
        var uri = new Uri(new Uri(request.Worker), string.Create(CultureInfo.InvariantCulture, $"/internal/usage/{Uri.EscapeDataString(request.RequestId)}?wait_ms={(int)Wait.TotalMilliseconds}"));
        using var timeout = new CancellationTokenSource(Wait + TimeSpan.FromSeconds(2));
        try
        {
            using var response = await client.GetAsync(uri, timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? await response.Content.ReadFromJsonAsync(OpenAiJson.Context.Usage, timeout.Token).ConfigureAwait(false)
                : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
