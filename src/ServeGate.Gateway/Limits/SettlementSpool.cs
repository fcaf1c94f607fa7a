using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using ServeGate.Core.Limits;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Limits;

/// <summary>
/// Settlements the limit store could not take (Redis down) wait in a local file, one JSON line each, and are replayed
/// in order when the store answers again, so tokens and spend counted against limits are not lost with Redis. (The
/// usage ledger itself is SQLite and never depends on Redis.)
/// </summary>
internal sealed partial class SettlementSpool(IOptions<MeteringOptions> metering, IRateLimitStore store, ILogger<SettlementSpool> logger) : BackgroundService
{
    private readonly string _path = Path.Combine(Path.GetDirectoryName(metering.Value.ResolveDatabasePath())!, "limits-spool.jsonl");
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string FilePath => _path;

    public async Task AppendAsync(IReadOnlyList<CounterAdd> adds)
    {
        var line = JsonSerializer.Serialize([.. adds], GatewayJsonContext.Default.CounterAddArray) + "\n";
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await File.AppendAllTextAsync(_path, line, Encoding.UTF8).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Replays every spooled settlement; true when the spool is empty afterwards.</summary>
    public async Task<bool> ReplayAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!File.Exists(_path))
            {
                return true;
            }

            var lines = await File.ReadAllLinesAsync(_path, cancellationToken).ConfigureAwait(false);
            var done = 0;
            try
            {
                foreach (var line in lines)
                {
                    if (line.Length > 0 && JsonSerializer.Deserialize(line, GatewayJsonContext.Default.CounterAddArray) is { } adds)
                    {
                        await store.AddAsync(adds, cancellationToken).ConfigureAwait(false);
                    }

                    done++;
                }
            }
            catch (RateLimitStoreUnavailableException)
            {
                // Still down: keep what is left for the next round.
            }

            if (done == lines.Length)
            {
                File.Delete(_path);
                Log.Replayed(logger, done);
                return true;
            }

            await File.WriteAllLinesAsync(_path, lines[done..], cancellationToken).ConfigureAwait(false);
            return false;
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5));
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (File.Exists(_path))
            {
                await ReplayAsync(stoppingToken).ConfigureAwait(false);
            }
        }
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = GatewayLogEvents.LimitSettleFailed, Level = LogLevel.Information, Message = "Replayed {Count} spooled limit settlements.")]
        public static partial void Replayed(ILogger logger, int count);
    }
}
