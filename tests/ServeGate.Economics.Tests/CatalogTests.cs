using ServeGate.Economics.Catalogs;

namespace ServeGate.Economics.Tests;

public sealed class CatalogTests
{
    [Fact]
    public void BuiltIn_EveryListPrice_HasSourceAndDateAndPrices()
    {
        var catalog = EconomicsCatalog.BuiltIn;

        Assert.True(catalog.ListPrices.Count >= 6);
        foreach (var (id, price) in catalog.ListPrices)
        {
            Assert.Empty(price.Validate(id));
            Assert.True(price.Input > 0 && price.Output > 0 && price.Name.Length > 0, id);
        }
    }

    [Fact]
    public void BuiltIn_EveryTrainingEstimate_HasSourceDateAndCost()
    {
        var catalog = EconomicsCatalog.BuiltIn;

        Assert.True(catalog.TrainingEstimates.Count >= 6);
        foreach (var (id, estimate) in catalog.TrainingEstimates)
        {
            Assert.Empty(estimate.Validate(id));
            Assert.True(estimate.Usd > 0 && estimate.Scope.Length > 0, id);
        }
    }

    [Theory]
    [InlineData("deepseek/deepseek-v3", 5_576_000)] // 2.788M H800-hours x $2
    [InlineData("meta/llama-3.1-405b", 61_680_000)] // 30.84M H100-hours x $2
    [InlineData("meta/llama-2-70b", 3_440_640)] // 1,720,320 A100-hours x $2
    [InlineData("openai/gpt-4", 78_352_034)] // as published
    [InlineData("google/gemini-1.0-ultra", 191_400_000)]
    [InlineData("openai/gpt-3", 4_324_883)]
    public void BuiltIn_TrainingEstimate_UsdDerivedFromGpuHoursTimesRate(string id, long usd)
    {
        Assert.Equal(usd, EconomicsCatalog.BuiltIn.TrainingEstimate(id)!.Usd);
    }

    [Fact]
    public void With_SameIdConfigured_ReplacesBuiltInEntry()
    {
        var cheaper = new ListPrice { Name = "mine", Input = 0.01m, CachedInput = 0.005m, Output = 0.02m, Published = "2026-12-01", Source = "https://example.com/prices" };

        var catalog = EconomicsCatalog.BuiltIn.With(new Dictionary<string, ListPrice> { ["openai/gpt-4o"] = cheaper, ["mine/model"] = cheaper }, new Dictionary<string, TrainingEstimate>());

        Assert.Same(cheaper, catalog.ListPrice("openai/gpt-4o"));
        Assert.Same(cheaper, catalog.ListPrice("mine/model"));
        Assert.Equal(2.50m, EconomicsCatalog.BuiltIn.ListPrice("openai/gpt-4o")!.Input);
    }
}
