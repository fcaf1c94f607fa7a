using ServeGate.Ledger;

namespace ServeGate.Gateway.Tests;

/// <summary>Straight-line amortization's observed token rate survives a restart: it is read back from the ledger.</summary>
public sealed class TokenRateRestartTests
{
    [Fact]
    public async Task StraightLine_GatewayRestartedOnSameLedger_PricesAtTheRateSeenBefore()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["ServeGate:Economics:Checkpoints:tiny:PretrainingCostUsd"] = "1000000",
            ["ServeGate:Economics:Checkpoints:tiny:PretrainingSource"] = "test",
            ["ServeGate:Economics:Checkpoints:tiny:Basis"] = "StraightLine",
            ["ServeGate:Economics:Checkpoints:tiny:Months"] = "12",
            ["ServeGate:Economics:Checkpoints:tiny:Variants:" + GatewayHost.BaseModel + ":PostTrainingCostUsd"] = "0",
        });
        var before = await CompleteAsync(gateway);
        await gateway.RestartAsync();
        var after = await CompleteAsync(gateway);

        // $/token is inversely proportional to the rate; both requests fall in the rate's 1-hour minimum window, so
        // the rate is tokens / 3600 s: a before the restart, then a + b if the ledger fed it (b alone if it did not).
        long a = before.PromptTokens + before.CompletionTokens, b = after.PromptTokens + after.CompletionTokens;
        var expected = (double)before.Charges!.TrainingUsdPerToken * a / (a + b);
        Assert.True(before.Charges.TrainingUsdPerToken > 0);
        Assert.Equal(1.0, (double)after.Charges!.TrainingUsdPerToken / expected, 6);
    }

    private static async Task<UsageRecord> CompleteAsync(GatewayHost gateway)
    {
        using var response = await gateway.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt = "The capital of France is", max_tokens = 8, temperature = 0, ignore_eos = true });
        response.EnsureSuccessStatusCode();
        return await gateway.RecordOfAsync(response.Headers.GetValues("x-request-id").Single());
    }
}
