using ServeGate.Economics.Configuration;

namespace ServeGate.Economics.Tests;

/// <summary>Options for the hand-computed cases: pool <c>gpu</c> at $3.60/hour (= $0.001/s), so seconds read as mills.</summary>
internal static class Settings
{
    public const decimal GpuUsdPerHour = 3.60m;

    public static EconomicsOptions Options(Action<EconomicsOptions>? configure = null)
    {
        var options = new EconomicsOptions
        {
            Pools = { ["gpu"] = new PoolOptions { HardwareUsdPerHour = GpuUsdPerHour, Source = "test" } },
            ListPriceReference = "openai/gpt-4o-mini",
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Checkpoint <c>ckpt</c> with variants <c>base</c> (no post-training) and <c>instruct</c>.</summary>
    public static CheckpointOptions TwoVariants(decimal pretraining, decimal instructPostTraining, PretrainingSplit split, AmortizationBasis basis = AmortizationBasis.LifetimeTokens, long lifetimeTokens = 1_000_000_000) => new()
    {
        PretrainingCostUsd = pretraining,
        PretrainingSource = "test pretraining",
        Split = split,
        Basis = basis,
        LifetimeTokens = lifetimeTokens,
        Variants =
        {
            ["base"] = new VariantOptions(),
            ["instruct"] = new VariantOptions { PostTrainingCostUsd = instructPostTraining, PostTrainingSource = "test post-training" },
        },
    };

    public static EconomicsSettings Create(Action<EconomicsOptions>? configure = null) => EconomicsSettings.Create(Options(configure));
}

/// <summary>An observed token rate fixed per model (the pricer's input in tests).</summary>
internal sealed class FixedTokenRate(Dictionary<string, double>? rates = null) : Pricing.IObservedTokenRate
{
    public double TokensPerSecond(string model) => rates?.GetValueOrDefault(model) ?? 0;
}
