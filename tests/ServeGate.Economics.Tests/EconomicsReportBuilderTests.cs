using System.Text.Json;
using ServeGate.Economics.Configuration;
using ServeGate.Economics.Reports;

namespace ServeGate.Economics.Tests;

public sealed class EconomicsReportBuilderTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static ModelUsageTotals Row(string model, long input, long output, double compute, decimal busy, decimal training = 0, decimal list = 0, string pool = "gpu") => new()
    {
        Model = model, Pool = pool, Requests = 10, InputTokens = input, OutputTokens = output, ComputeSeconds = compute,
        InferenceCostUsd = busy, TrainingShareUsd = training, ListPriceUsd = list, First = Now.AddHours(-1), Last = Now,
    };

    private static EconomicsReport Build(PretrainingSplit split, params ModelUsageTotals[] rows) =>
        new EconomicsReportBuilder(Settings.Create(o => o.Checkpoints["ckpt"] = Settings.TwoVariants(1_000_000m, 100_000m, split)))
            .Build(rows, [new PoolUptimeTotal("gpu", 3600)], Now);

    [Fact]
    public void Build_PoolUpAnHour_IdleIsPaidTimeMinusBusySplitByBusyShare()
    {
        // Pool gpu up 3600 s at $3.60/h: $3.60 paid. Busy: base 600 s ($0.60), instruct 300 s ($0.30): $0.90.
        // Idle $3.60 - $0.90 = $2.70: base 2.70 x 0.6/0.9 = $1.80, instruct $0.90. Pool utilization 900 / 3600 = 0.25.
        var report = Build(PretrainingSplit.ByTokens,
            Row("base", 800_000, 200_000, 600, 0.60m, list: 0.24m),
            Row("instruct", 400_000, 100_000, 300, 0.30m));

        var pool = Assert.Single(report.Pools);
        var variants = Assert.Single(report.Checkpoints).Variants;
        var baseVariant = variants.Single(v => v.Model == "base");
        Assert.Equal(2.70m, pool.IdleCostUsd);
        Assert.Equal(0.25, pool.Utilization, 9);
        Assert.Equal(1.80m, baseVariant.IdleCostUsd);
        Assert.Equal(0.90m, variants.Single(v => v.Model == "instruct").IdleCostUsd);
        Assert.Equal(0.25, baseVariant.Utilization, 9);
        // Base: 1M tokens. Busy $0.60, with idle $2.40, list $0.24 per 1M; $3.60/h effective.
        Assert.Equal(1_000_000, baseVariant.Tokens);
        Assert.Equal(0.60m, baseVariant.UsdPerMillionTokensBusy);
        Assert.Equal(2.40m, baseVariant.UsdPerMillionTokensWithIdle);
        Assert.Equal(0.24m, baseVariant.UsdPerMillionTokensListPrice);
        Assert.Equal(3.60m, baseVariant.HardwareUsdPerHour);
    }

    [Fact]
    public void Build_PretrainingByTokens_VariantsCarryItByTokensServed()
    {
        // Base 1M of the checkpoint's 1.5M tokens: 1,000,000 x 1/1.5 = $666,666.67; instruct $333,333.33 + $100,000.
        var report = Build(PretrainingSplit.ByTokens, Row("base", 800_000, 200_000, 600, 0.60m), Row("instruct", 400_000, 100_000, 300, 0.30m));

        var checkpoint = Assert.Single(report.Checkpoints);
        Assert.Equal(666_666.67m, decimal.Round(checkpoint.Variants.Single(v => v.Model == "base").TrainingCostUsd, 2));
        Assert.Equal(433_333.33m, decimal.Round(checkpoint.Variants.Single(v => v.Model == "instruct").TrainingCostUsd, 2));
        Assert.Equal(1_100_000m, checkpoint.TrainingCostUsd);
    }

    [Fact]
    public void Build_PretrainingEqually_EachVariantCarriesHalf()
    {
        // $1,000,000 / 2 = $500,000 each; instruct + $100,000 post-training.
        var report = Build(PretrainingSplit.Equally, Row("base", 800_000, 200_000, 600, 0.60m), Row("instruct", 400_000, 100_000, 300, 0.30m));

        var variants = Assert.Single(report.Checkpoints).Variants;
        Assert.Equal(500_000m, variants.Single(v => v.Model == "base").TrainingCostUsd);
        Assert.Equal(600_000m, variants.Single(v => v.Model == "instruct").TrainingCostUsd);
        Assert.Equal("test pretraining; post-training: test post-training", variants.Single(v => v.Model == "instruct").TrainingSource);
    }

    [Fact]
    public void Build_AmortizedSoFar_SumOfRecordSharesAndTheRemainder()
    {
        // Base: $500,000 (equally) to amortize, $1,234.50 amortized by its records: $498,765.50 left.
        var report = Build(PretrainingSplit.Equally, Row("base", 800_000, 200_000, 600, 0.60m, training: 1_234.50m));

        var variant = Assert.Single(Assert.Single(report.Checkpoints).Variants);
        Assert.Equal(1_234.50m, variant.AmortizedTrainingUsd);
        Assert.Equal(498_765.50m, variant.UnamortizedTrainingUsd);
    }

    [Fact]
    public void BreakEven_SpendBelowTraining_ProjectedAtObservedRate()
    {
        // $50 spent over 10 days = $5/day; $100 - $50 = $50 left: 10 days from now.
        var result = BreakEven.Project(100m, 50m, Now.AddDays(-10), Now, 10);

        Assert.False(result.Reached);
        Assert.Equal(5m, result.InferenceUsdPerDay);
        Assert.Equal(Now.AddDays(10), result.Date);
    }

    [Fact]
    public void BreakEven_SpendAboveTraining_ReachedOnTheDayTheRateCrossedIt()
    {
        // $200 over 10 days = $20/day: $100 was reached 5 days after the first request.
        var result = BreakEven.Project(100m, 200m, Now.AddDays(-10), Now, 10);

        Assert.True(result.Reached);
        Assert.Equal(Now.AddDays(-5), result.Date);
    }

    [Fact]
    public void BreakEven_FarBeyondHorizon_NotWithinNYears()
    {
        // $1/day against $1e9: 1e9 days, far beyond 10 years.
        var result = BreakEven.Project(1_000_000_000m, 1m, Now.AddDays(-1), Now, 10);

        Assert.False(result.Reached);
        Assert.Null(result.Date);
        Assert.StartsWith("not within 10 years", result.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DemoModel_WhatIfAtLlama31405BTrainingCost()
    {
        // Default what-if: Llama 3.1 405B, 30,840,000 H100-hours x $2 = $61,680,000, over the demo checkpoint's default
        // 1e12 lifetime tokens: 1,000,000 tokens x $61,680,000 / 1e12 = $61.68. Own training: $0 (never trained).
        var report = new EconomicsReportBuilder(Settings.Create())
            .Build([Row("servegate-demo-base", 900_000, 100_000, 100, 0.10m, pool: "local")], [new PoolUptimeTotal("local", 3600)], Now);

        var variant = Assert.Single(Assert.Single(report.Checkpoints).Variants);
        Assert.Equal(0m, variant.TrainingCostUsd);
        Assert.Contains("never trained", variant.TrainingSource, StringComparison.Ordinal);
        Assert.NotNull(variant.WhatIf);
        Assert.Equal("meta/llama-3.1-405b", variant.WhatIf.Estimate);
        Assert.Equal(61_680_000m, variant.WhatIf.TrainingCostUsd);
        Assert.Equal(61.68m, variant.WhatIf.AmortizedTrainingUsd);
        Assert.False(variant.WhatIf.BreakEven.Reached);
    }

    [Fact]
    public void Report_Json_SnakeCaseFieldsPerVariant()
    {
        var report = Build(PretrainingSplit.ByTokens, Row("base", 800_000, 200_000, 600, 0.60m));

        var json = JsonSerializer.Serialize(report, EconomicsJsonContext.Default.EconomicsReport);

        using var document = JsonDocument.Parse(json);
        var variant = document.RootElement.GetProperty("checkpoints")[0].GetProperty("variants")[0];
        foreach (var field in new[] { "model", "checkpoint", "tokens", "compute_seconds", "hardware_usd_per_hour", "inference_cost_usd", "idle_cost_usd", "training_cost_usd", "amortized_training_usd", "list_price_usd", "cache_savings_usd", "break_even" })
        {
            Assert.True(variant.TryGetProperty(field, out _), field);
        }

        Assert.Equal(3.00m, variant.GetProperty("idle_cost_usd").GetDecimal()); // $3.60 paid - $0.60 busy, all on base (the only variant)
    }
}
