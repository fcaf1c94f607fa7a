using System.Collections.Concurrent;
using ServeGate.Economics.Configuration;

namespace ServeGate.Economics.Pricing;

/// <summary>
/// Prices one metered request, once, when its record is written. Thread-safe; its only state is each pool's running
/// seconds per computed prompt token (what a cached token saves when a request computed none itself).
/// </summary>
public sealed class UsagePricer(EconomicsSettings settings, IObservedTokenRate rate)
{
    private readonly ConcurrentDictionary<string, PromptAverage> _promptAverages = new(StringComparer.Ordinal);

    public EconomicsSettings Settings { get; } = settings;

    public PricedUsage Price(UsageToPrice usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        var pool = Settings.PoolOf(usage.Pool);
        var model = Settings.ModelOf(usage.Model);
        var prompt = Math.Max(0, usage.PromptTokens);
        var cached = Math.Clamp(usage.CachedTokens, 0, prompt);
        var completion = Math.Max(0, usage.CompletionTokens);
        var tokens = prompt + completion;
        rate.Observe(usage.Model, tokens);

        var secondsPerPromptToken = SecondsPerPromptToken(usage.Pool, prompt - cached, usage.PromptSeconds);
        var training = Amortization.PerToken(model, rate.TokensPerSecond);
        var list = model.ListPrice;
        return new PricedUsage
        {
            Pool = pool.Pool,
            Checkpoint = model.Checkpoint,
            HardwareUsdPerHour = pool.UsdPerHour,
            InferenceCostUsd = CostFormulas.BusyCost(Math.Max(0, usage.ComputeSeconds), pool.UsdPerHour),
            CacheSavingsUsd = CostFormulas.CacheSavings(cached, secondsPerPromptToken, pool.UsdPerHour),
            SecondsPerPromptToken = secondsPerPromptToken,
            TrainingUsdPerToken = training.UsdPerToken,
            TrainingShareUsd = tokens * training.UsdPerToken,
            ListPriceReference = list is null ? string.Empty : model.ListPriceReference,
            ListInputUsdPerMillion = list?.Input ?? 0m,
            ListCachedInputUsdPerMillion = list?.CachedInput ?? 0m,
            ListOutputUsdPerMillion = list?.Output ?? 0m,
            ListPriceUsd = list?.Cost(prompt, cached, completion) ?? 0m,
        };
    }

    /// <summary>This request's prompt seconds per computed prompt token, recorded into the pool's average; else that average.</summary>
    private double SecondsPerPromptToken(string pool, long computedPromptTokens, double promptSeconds)
    {
        var average = _promptAverages.GetOrAdd(pool, static _ => new PromptAverage());
        if (computedPromptTokens > 0 && promptSeconds > 0 && double.IsFinite(promptSeconds))
        {
            average.Add(promptSeconds, computedPromptTokens);
            return promptSeconds / computedPromptTokens;
        }

        return average.Value;
    }

    private sealed class PromptAverage
    {
        private readonly Lock _gate = new();
        private double _seconds;
        private long _tokens;

        public double Value
        {
            get
            {
                lock (_gate)
                {
                    return _tokens == 0 ? 0 : _seconds / _tokens;
                }
            }
        }

        public void Add(double seconds, long tokens)
        {
            lock (_gate)
            {
                _seconds += seconds;
                _tokens += tokens;
            }
        }
    }
}
