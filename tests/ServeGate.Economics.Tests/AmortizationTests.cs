using ServeGate.Economics.Configuration;
using ServeGate.Economics.Pricing;

namespace ServeGate.Economics.Tests;

public sealed class AmortizationTests
{
    // Observed: base 30 tokens/s, instruct 10 tokens/s: instruct is 1/4 of the checkpoint's traffic.
    private static readonly Dictionary<string, double> Rates = new() { ["base"] = 30, ["instruct"] = 10 };

    private static TrainingRate RateOf(string model, CheckpointOptions checkpoint, Dictionary<string, double>? rates = null)
    {
        var settings = Settings.Create(o => o.Checkpoints["ckpt"] = checkpoint);
        return Amortization.PerToken(settings.ModelOf(model), m => (rates ?? Rates).GetValueOrDefault(m));
    }

    [Fact]
    public void PerToken_LifetimeTokensSharedByTokens_EveryTokenSamePretrainingShare()
    {
        // P = $1,000,000 over B = 1e9 tokens: $0.001/token for every variant.
        // Instruct adds $100,000 post-training over its part of the basis, 1e9 x 1/4 = 2.5e8: $0.0004/token.
        var checkpoint = Settings.TwoVariants(1_000_000m, 100_000m, PretrainingSplit.ByTokens);

        var baseRate = RateOf("base", checkpoint);
        var instruct = RateOf("instruct", checkpoint);

        Assert.Equal(0.001m, baseRate.UsdPerToken);
        Assert.Equal(0.0014m, instruct.UsdPerToken);
        Assert.Equal(250_000_000m, instruct.VariantBasisTokens);
    }

    [Fact]
    public void PerToken_LifetimeTokensSharedEqually_EachVariantRecoversHalfOverItsTokens()
    {
        // Each variant carries P/2 = $500,000. Base over 7.5e8 tokens: $0.000666.../token (x 7.5e8 = $500,000).
        // Instruct over 2.5e8: $500,000 / 2.5e8 + $100,000 / 2.5e8 = $0.002 + $0.0004 = $0.0024 (x 2.5e8 = $600,000).
        var checkpoint = Settings.TwoVariants(1_000_000m, 100_000m, PretrainingSplit.Equally);

        var baseRate = RateOf("base", checkpoint);
        var instruct = RateOf("instruct", checkpoint);

        Assert.Equal(500_000m, decimal.Round(baseRate.UsdPerToken * 750_000_000m, 6));
        Assert.Equal(0.0024m, instruct.UsdPerToken);
    }

    [Fact]
    public void PerToken_SharedEquallyNothingObserved_VariantsSplitTheBasisEvenly()
    {
        // No rate observed: each variant's part of the basis is 1e9 / 2 = 5e8; base: $500,000 / 5e8 = $0.001.
        var rate = RateOf("base", Settings.TwoVariants(1_000_000m, 0m, PretrainingSplit.Equally), []);

        Assert.Equal(0.001m, rate.UsdPerToken);
    }

    [Fact]
    public void PerToken_StraightLineOverMonths_BasisIsMonthsTimesObservedRate()
    {
        // 1 month = 365.25 / 12 days = 2,629,800 s; at 10 tokens/s: B = 26,298,000 tokens.
        // P = $2,629,800: $0.1/token; R&D multiplier 2: $0.2/token.
        var checkpoint = new CheckpointOptions
        {
            PretrainingCostUsd = 2_629_800m,
            PretrainingSource = "test",
            Basis = AmortizationBasis.StraightLine,
            Months = 1,
            RdMultiplier = 2m,
            Variants = { ["solo"] = new VariantOptions() },
        };

        var rate = RateOf("solo", checkpoint, new() { ["solo"] = 10 });

        Assert.Equal(26_298_000m, rate.CheckpointBasisTokens);
        Assert.Equal(0.2m, rate.UsdPerToken);
    }

    [Fact]
    public void PerToken_StraightLineNothingObserved_ZeroWithTheReason()
    {
        var checkpoint = Settings.TwoVariants(1_000_000m, 0m, PretrainingSplit.ByTokens, AmortizationBasis.StraightLine);

        var rate = RateOf("base", checkpoint, []);

        Assert.Equal(0m, rate.UsdPerToken);
        Assert.Contains("no tokens observed", rate.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void RunningTokenRate_TokensOverElapsed_NeverUnderAnHour()
    {
        // 7,200 tokens: after 30 min the window is still 1 h (7200 / 3600 = 2 tokens/s); after 2 h, 7200 / 7200 = 1.
        var time = new ManualTime(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        var rate = new RunningTokenRate(time);
        rate.Observe("m", 7_200);

        time.Now += TimeSpan.FromMinutes(30);
        var early = rate.TokensPerSecond("m");
        time.Now += TimeSpan.FromMinutes(90);
        var later = rate.TokensPerSecond("m");

        Assert.Equal(2, early, 9);
        Assert.Equal(1, later, 9);
        Assert.Equal(0, rate.TokensPerSecond("never-seen"));
    }

    [Fact]
    public void RunningTokenRate_SeededFromBefore_KeepsTheEarlierStartAndAddsItsTokens()
    {
        // 3,600 tokens from the ledger since 2 h ago, then 3,600 observed: 7,200 over 2 h = 1 token/s.
        var time = new ManualTime(new DateTimeOffset(2026, 12, 1, 2, 0, 0, TimeSpan.Zero));
        var rate = new RunningTokenRate(time);
        rate.Seed("m", 3_600, time.Now - TimeSpan.FromHours(2));
        rate.Observe("m", 3_600);

        Assert.Equal(1, rate.TokensPerSecond("m"), 9);
        rate.Seed("m", 0, time.Now - TimeSpan.FromDays(9));
        Assert.Equal(1, rate.TokensPerSecond("m"), 9);
    }
}
