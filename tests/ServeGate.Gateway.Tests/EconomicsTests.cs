using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using ServeGate.Gateway.Metering;
using ServeGate.Gateway.Pipeline;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Tests;

/// <summary>Every usage record is priced when written: busy cost from the worker's compute seconds and the pool's price.</summary>
public sealed class EconomicsTests : IAsyncLifetime
{
    private readonly RecordingObserver _records = new();
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(
        new Dictionary<string, string?>
        {
            ["ServeGate:Economics:Pools:local:HardwareUsdPerHour"] = "3.6",
            ["ServeGate:Economics:Pools:local:Source"] = "test price",
            ["ServeGate:Economics:Checkpoints:tiny:PretrainingCostUsd"] = "1000000",
            ["ServeGate:Economics:Checkpoints:tiny:PretrainingSource"] = "test",
            ["ServeGate:Economics:Checkpoints:tiny:Variants:" + GatewayHost.BaseModel + ":PostTrainingCostUsd"] = "0",
        },
        services: s => s.AddSingleton<IUsageObserver>(_records));

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Completion_RealRequest_RecordCarriesBusyCostOfComputeSecondsAtPoolPrice()
    {
        using var response = await _gateway.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt = "The capital of France is", max_tokens = 8, temperature = 0, ignore_eos = true });
        var body = GatewayHost.Parse(await response.Content.ReadAsStringAsync())!;
        var record = await _records.WaitForAsync(response.Headers.GetValues("x-request-id").Single());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var metering = body["usage"]!["servegate"]!;
        var promptSeconds = (double)metering["prompt_seconds"]!;
        Assert.InRange(promptSeconds, double.Epsilon, (double)metering["compute_seconds"]!);
        var charges = Assert.IsType<UsageCharges>(record.Charges);
        Assert.True(record.ComputeSeconds > 0);
        // $3.60/h = $0.001 per compute second.
        Assert.Equal((decimal)record.ComputeSeconds * 3.6m / 3600m, charges.InferenceCostUsd);
        Assert.True(charges.InferenceCostUsd > 0);
        Assert.Equal(3.6m, charges.HardwareUsdPerHour);
        Assert.Equal("local", charges.Pool);
        Assert.Equal("tiny", charges.Checkpoint);
        // $1,000,000 over the default 1e12 lifetime tokens: $0.000001 per token.
        Assert.Equal(0.000001m, charges.TrainingUsdPerToken);
        Assert.Equal((record.PromptTokens + record.CompletionTokens) * 0.000001m, charges.TrainingShareUsd);
        Assert.Equal("openai/gpt-4o-mini", charges.ListPriceReference);
        Assert.True(charges.ListPriceUsd > 0);
    }

    [Fact]
    public async Task Completion_UnknownModelRefused_ZeroChargesWithPoolAndCheckpoint()
    {
        using var response = await _gateway.PostAsync("/v1/completions", new { model = "no-such-model", prompt = "x", max_tokens = 1 });
        var record = await _records.WaitForAsync(response.Headers.GetValues("x-request-id").Single());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var charges = Assert.IsType<UsageCharges>(record.Charges);
        Assert.Equal("local", charges.Pool);
        Assert.Equal("no-such-model", charges.Checkpoint);
        Assert.Equal(0m, charges.InferenceCostUsd + charges.TrainingShareUsd + charges.ListPriceUsd + charges.CacheSavingsUsd);
    }

    /// <summary>The records as the metering middleware hands them on (the ledger's store is another helper's concern).</summary>
    private sealed class RecordingObserver : IUsageObserver
    {
        private readonly ConcurrentDictionary<string, UsageRecord> _records = new(StringComparer.Ordinal);

        public ValueTask OnUsageAsync(GatewayRequest request, UsageRecord record)
        {
            _records[record.RequestId] = record;
            return ValueTask.CompletedTask;
        }

        public async Task<UsageRecord> WaitForAsync(string requestId)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!_records.ContainsKey(requestId) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            return _records[requestId];
        }
    }
}
