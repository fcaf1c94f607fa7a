namespace ServeGate.Gateway.Routing;

/// <summary>Active health checks: probes every worker's <c>/ready</c> on an interval; a 200 marks it healthy again.</summary>
internal sealed partial class WorkerHealthProbe(WorkerPool pool, IHttpClientFactory clients, TimeProvider time, ILogger<WorkerHealthProbe> logger) : BackgroundService
{
    public const string ClientName = "servegate-health";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!pool.IsRemote)
        {
            return;
        }

        var client = clients.CreateClient(ClientName);
        while (!stoppingToken.IsCancellationRequested)
        {
            await ProbeAllAsync(client, stoppingToken).ConfigureAwait(false);
            try
            {
                await Task.Delay(pool.Routing.HealthCheckInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    internal async Task ProbeAllAsync(HttpClient client, CancellationToken cancellationToken)
    {
        await Task.WhenAll(pool.Destinations.Select(async d =>
        {
            bool healthy;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                using var response = await client.GetAsync(new Uri(d.Url + "/ready"), timeout.Token).ConfigureAwait(false);
                healthy = response.IsSuccessStatusCode;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                healthy = false;
            }

            if (healthy != d.Healthy)
            {
                Log.HealthChanged(logger, d.Url, healthy);
            }

            d.Healthy = healthy;
        })).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = GatewayLogEvents.WorkerHealthChanged, Level = LogLevel.Information, Message = "Worker {Worker} is now {Healthy} (active probe).")]
        public static partial void HealthChanged(ILogger logger, string worker, bool healthy);
    }
}
