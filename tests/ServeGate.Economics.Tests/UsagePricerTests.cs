using ServeGate.Economics.Configuration;
using ServeGate.Economics.Pricing;

namespace ServeGate.Economics.Tests;

public sealed class UsagePricerTests
{
    private static UsagePricer Pricer(Action<EconomicsOptions>? configure = null, Dictionary<string, double>? rates = null) =>
        new(Settings.Create(configure), new FixedTokenRate(rates));

    private static UsageToPrice Usage(string model = "base", string pool = "gpu", long prompt = 0, long cached = 0, long completion = 0, double compute = 0, double promptSeconds = 0) => new()
    {
        Model = model, Pool = pool, PromptTokens = prompt, CachedTokens = cached, CompletionTokens = completion, ComputeSeconds = compute, PromptSeconds = promptSeconds,
    };

    [Fact]
    public void Price_ComputeSeconds_BusyCostIsSecondsTimesPoolPrice()
    {
        // 2.5 s x $3.60/h / 3600 = $0.0025
        var priced = Pricer().Price(Usage(prompt: 10, completion: 5, compute: 2.5));

        Assert.Equal(0.0025m, priced.InferenceCostUsd);
        Assert.Equal(3.60m, priced.HardwareUsdPerHour);
        Assert.Equal("gpu", priced.Pool);
    }

    [Fact]
    public void Price_PowerAndEnergyConfigured_EnergyAddedToHourlyPrice()
    {
        // $1.00/h + 500 W x $0.20/kWh = $1.00 + 0.5 kW x $0.20 = $1.10/h; 36 s x $1.10 / 3600 = $0.011
        var pricer = Pricer(o => o.Pools["box"] = new PoolOptions { HardwareUsdPerHour = 1.00m, PowerWatts = 500, EnergyUsdPerKwh = 0.20m });

        var priced = pricer.Price(Usage(pool: "box", compute: 36));

        Assert.Equal(1.10m, priced.HardwareUsdPerHour);
        Assert.Equal(0.011m, priced.InferenceCostUsd);
    }

    [Fact]
    public void Price_TwoRequestsSharingOneStep_CostsAddUpToStepTimeTimesPrice()
    {
        // One 0.3 s decode step: A put 1 generated token in it, B a 5-token prompt chunk (6 tokens). The scheduler
        // attributes A 0.3 x 1/6 = 0.05 s and B 0.3 x 5/6 = 0.25 s. At $3.60/h ($0.001/s): A $0.00005, B $0.00025,
        // together $0.0003 = 0.3 s x $0.001/s, the step's whole price.
        var pricer = Pricer();
        const double step = 0.3;

        var a = pricer.Price(Usage(completion: 1, compute: step * 1 / 6));
        var b = pricer.Price(Usage(prompt: 5, compute: step * 5 / 6, promptSeconds: step * 5 / 6));

        Assert.Equal(0.00005m, decimal.Round(a.InferenceCostUsd, 12));
        Assert.Equal(0.00025m, decimal.Round(b.InferenceCostUsd, 12));
        Assert.Equal(0.0003m, decimal.Round(a.InferenceCostUsd + b.InferenceCostUsd, 12));
    }

    [Fact]
    public void Price_CachedTokens_SavingsAtThisRequestsSecondsPerPromptToken()
    {
        // 100 prompt tokens, 60 cached: 40 computed in 0.8 s of prompt time = 0.02 s/token.
        // Savings = 60 x 0.02 s = 1.2 s x $0.001/s = $0.0012.
        var priced = Pricer().Price(Usage(prompt: 100, cached: 60, completion: 4, compute: 1.0, promptSeconds: 0.8));

        Assert.Equal(0.02, priced.SecondsPerPromptToken, 9);
        Assert.Equal(0.0012m, decimal.Round(priced.CacheSavingsUsd, 12));
    }

    [Fact]
    public void Price_NoPromptTokenComputed_SavingsAtPoolsRunningAverage()
    {
        // First request: 100 prompt tokens computed in 1.0 s (0.01 s/token). Second: all 50 prompt tokens cached, none
        // computed: priced at the pool's average, 50 x 0.01 s = 0.5 s x $0.001/s = $0.0005. Another pool has no history: 0.
        var pricer = Pricer(o => o.Pools["other"] = new PoolOptions { HardwareUsdPerHour = 3.60m });
        pricer.Price(Usage(prompt: 100, completion: 1, compute: 1.1, promptSeconds: 1.0));

        var fullyCached = pricer.Price(Usage(prompt: 50, cached: 50, completion: 1, compute: 0.01));
        var elsewhere = pricer.Price(Usage(pool: "other", prompt: 50, cached: 50, completion: 1, compute: 0.01));

        Assert.Equal(0.0005m, decimal.Round(fullyCached.CacheSavingsUsd, 12));
        Assert.Equal(0m, elsewhere.CacheSavingsUsd);
    }

    [Fact]
    public void Price_ListPriceReference_UncachedCachedAndOutputAtTheirPrices()
    {
        // gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per 1M.
        // 1000 prompt (400 cached), 500 output: (600 x 0.15 + 400 x 0.075 + 500 x 0.60) / 1M = (90 + 30 + 300) / 1M = $0.00042
        var priced = Pricer().Price(Usage(prompt: 1000, cached: 400, completion: 500, compute: 1));

        Assert.Equal("openai/gpt-4o-mini", priced.ListPriceReference);
        Assert.Equal(0.00042m, priced.ListPriceUsd);
        Assert.Equal((0.15m, 0.075m, 0.60m), (priced.ListInputUsdPerMillion, priced.ListCachedInputUsdPerMillion, priced.ListOutputUsdPerMillion));
    }

    [Fact]
    public void Price_ModelAndPoolNotConfigured_PricedWithWhatIsKnown()
    {
        // Hardware known (pool gpu), training not: 0, its checkpoint named after the model. An unknown pool costs 0.
        var pricer = Pricer();

        var unknownModel = pricer.Price(Usage(model: "mystery", prompt: 10, completion: 10, compute: 3.6));
        var unknownPool = pricer.Price(Usage(model: "mystery", pool: "http://w9:8081", prompt: 10, completion: 10, compute: 3.6));

        Assert.Equal("mystery", unknownModel.Checkpoint);
        Assert.Equal(0.0036m, unknownModel.InferenceCostUsd);
        Assert.Equal(0m, unknownModel.TrainingShareUsd);
        Assert.Equal(0m, unknownPool.InferenceCostUsd);
        Assert.Equal("http://w9:8081", unknownPool.Pool);
    }

    [Fact]
    public void Price_RefusedRequestOnDemoModel_ZeroChargesButPoolAndCheckpoint()
    {
        var priced = Pricer().Price(Usage(model: "servegate-demo-base", pool: "local"));

        Assert.Equal("local", priced.Pool);
        Assert.Equal(EconomicsSettings.DemoCheckpoint, priced.Checkpoint);
        Assert.Equal(EconomicsSettings.DefaultLocalUsdPerHour, priced.HardwareUsdPerHour);
        Assert.Equal(0m, priced.InferenceCostUsd + priced.CacheSavingsUsd + priced.TrainingShareUsd + priced.ListPriceUsd);
    }

    [Fact]
    public void Price_TrainingShare_TokensTimesRatePerToken()
    {
        // Checkpoint ckpt: $1,000,000 pretraining over 1e9 lifetime tokens, by tokens: $0.001/token for base.
        // 600 prompt + 400 output = 1000 tokens x $0.001 = $1.
        var pricer = Pricer(o => o.Checkpoints["ckpt"] = Settings.TwoVariants(1_000_000m, 0m, PretrainingSplit.ByTokens));

        var priced = pricer.Price(Usage(prompt: 600, completion: 400, compute: 1));

        Assert.Equal(0.001m, priced.TrainingUsdPerToken);
        Assert.Equal(1m, priced.TrainingShareUsd);
        Assert.Equal("ckpt", priced.Checkpoint);
    }
}
