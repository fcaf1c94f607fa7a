using System.Security.Cryptography;
using ServeGate.Gateway.Routing;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Reports;

/// <summary>
/// Records each worker pool's up-time in the ledger (<see cref="IUsageStore.RecordUptimeAsync"/>): one interval per
/// pool and gateway run, extended every <see cref="Interval"/> and at shutdown, priced by <see cref="IPoolPriceSource"/>.
/// Idle capacity is that up-time's price less the busy inference cost of the same pool.
/// </summary>
internal sealed partial class PoolUptimeRecorder(
    IUsageStore store, WorkerPool workers, IPoolPriceSource prices, TimeProvider time, ILogger<PoolUptimeRecorder> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    private readonly string _instance = "gw-" + RandomNumberGenerator.GetHexString(12, lowercase: true);
    private readonly Dictionary<string, (string Instance, DateTimeOffset Start)> _open = new(StringComparer.Ordinal);
    private int _openings;

    /// <summary>Writes every pool's interval up to now; a pool gone since the last time is closed, one back is reopened.</summary>
    public async Task RecordAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var pools = workers.IsRemote ? workers.Destinations.Select(PoolNames.Of).Distinct(StringComparer.Ordinal).ToList() : [PoolNames.Local];
        foreach (var gone in _open.Keys.Except(pools, StringComparer.Ordinal).ToList())
        {
            _open.Remove(gone);
        }

        foreach (var pool in pools)
        {
            if (!_open.TryGetValue(pool, out var interval))
            {
                _open[pool] = interval = (_instance + "-" + (++_openings).ToString(System.Globalization.CultureInfo.InvariantCulture), now);
            }

            try
            {
                await store.RecordUptimeAsync(new PoolUptime
                {
                    Pool = pool,
                    InstanceId = interval.Instance,
                    Start = interval.Start,
                    End = now,
                    HardwareUsdPerHour = prices.HardwareUsdPerHour(pool),
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                Log.Failed(logger, pool, ex);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                await RecordAsync(stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await RecordAsync(CancellationToken.None).ConfigureAwait(false); // the interval ends now, not up to 15 s ago
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = GatewayLogEvents.UptimeFailed, Level = LogLevel.Warning, Message = "Recording the up-time of pool {Pool} failed; retried at the next interval.")]
        public static partial void Failed(ILogger logger, string pool, Exception exception);
    }
}
