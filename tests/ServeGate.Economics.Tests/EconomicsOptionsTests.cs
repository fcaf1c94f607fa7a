using ServeGate.Economics.Catalogs;
using ServeGate.Economics.Configuration;

namespace ServeGate.Economics.Tests;

public sealed class EconomicsOptionsTests
{
    [Fact]
    public void Validate_SeveralProblems_ReportsEveryOne()
    {
        var options = new EconomicsOptions
        {
            Pools =
            {
                ["a"] = new PoolOptions { HardwareUsdPerHour = -1 },
                ["b"] = new PoolOptions { HardwareUsdPerHour = 1, PowerWatts = 300 },
            },
            Checkpoints =
            {
                ["empty"] = new CheckpointOptions { PretrainingCostUsd = 10 },
                ["dup"] = new CheckpointOptions { Variants = { ["m"] = new VariantOptions() }, Basis = AmortizationBasis.StraightLine, Months = 0, RdMultiplier = 0.5m },
                ["dup2"] = new CheckpointOptions { Variants = { ["m"] = new VariantOptions { ListPriceReference = "nobody/nothing" } } },
            },
            ListPriceReference = "nobody/else",
            WhatIf = { ["m"] = "no/such-estimate" },
            BreakEvenHorizonYears = 0,
        };

        var errors = options.Validate(EconomicsCatalog.BuiltIn).ToList();

        string[] expected =
        [
            "Pools:a:HardwareUsdPerHour must not be negative",
            "Pools:b:EnergyUsdPerKwh is needed",
            "Checkpoints:empty:PretrainingSource must say",
            "Checkpoints:empty:Variants must name at least one model",
            "Checkpoints:dup:Months must be positive",
            "Checkpoints:dup:RdMultiplier must be at least 1",
            "Checkpoints:dup2:Variants:m: the model is already a variant of checkpoint 'dup'",
            "Variants:m:ListPriceReference 'nobody/nothing'",
            "ListPriceReference 'nobody/else'",
            "WhatIf:m 'no/such-estimate'",
            "BreakEvenHorizonYears",
        ];
        foreach (var part in expected)
        {
            Assert.Contains(errors, e => e.Contains(part, StringComparison.Ordinal));
        }

        Assert.Equal(expected.Length, errors.Count);
    }

    [Fact]
    public void Validate_Defaults_NoError()
    {
        Assert.Empty(new EconomicsOptions().Validate(EconomicsCatalog.BuiltIn));
    }

    [Fact]
    public void Settings_NothingConfigured_LocalPoolAndDemoModelsFlaggedAsConfiguredDefaults()
    {
        var settings = EconomicsSettings.Create(new EconomicsOptions());

        var local = settings.PoolOf("local");
        var demo = settings.ModelOf("servegate-demo-instruct");

        Assert.True(local.IsConfiguredDefault);
        Assert.Equal(0.08925m, local.UsdPerHour);
        Assert.StartsWith("configured default", local.Source, StringComparison.Ordinal);
        Assert.Equal("servegate-demo", demo.Checkpoint);
        Assert.Equal(["servegate-demo-base", "servegate-demo-instruct"], demo.Variants);
        Assert.StartsWith("configured default", demo.PretrainingSource, StringComparison.Ordinal);
        Assert.Equal(0m, demo.CheckpointOptions.PretrainingCostUsd);
    }

    [Fact]
    public void Settings_LocalPoolConfigured_ConfiguredPriceNotFlagged()
    {
        var settings = EconomicsSettings.Create(new EconomicsOptions { Pools = { ["local"] = new PoolOptions { HardwareUsdPerHour = 0.5m, Source = "our invoice" } } });

        Assert.Equal(new PoolPrice("local", 0.5m, "our invoice", false), settings.PoolOf("local"));
    }
}
