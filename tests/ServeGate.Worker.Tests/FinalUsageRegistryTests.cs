using ServeGate.Worker.Api;
using ServeGate.Worker.Inference;
using ServeGate.Worker.Scheduling;

namespace ServeGate.Worker.Tests;

/// <summary>The worker's record of each gateway request's final usage: exact once ended, bounded in time and count.</summary>
public sealed class FinalUsageRegistryTests
{
    private sealed class SteppedTime : TimeProvider
    {
        public long Ticks { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;
    }

    private static GenerationResult Result(int prompt, int cached, int completion) => new()
    {
        FinishReason = FinishReason.Cancelled,
        PromptTokens = prompt,
        CachedTokens = cached,
        CompletionTokens = completion,
        ComputeSeconds = 0.25,
    };

    [Fact]
    public async Task WaitAsync_UnknownRequest_NullAtOnce()
    {
        var registry = new FinalUsageRegistry(TimeProvider.System);

        Assert.Null(await registry.WaitAsync("req-unknown", TimeSpan.FromSeconds(30), CancellationToken.None));
    }

    [Fact]
    public async Task WaitAsync_StillRunning_NullAfterTheWaitThenExactWhenEnded()
    {
        var registry = new FinalUsageRegistry(TimeProvider.System);
        var first = new GenerationHandle();
        var second = new GenerationHandle();
        registry.Track("req-1", [first, second]);

        first.Complete(Result(10, 4, 7));
        Assert.Null(await registry.WaitAsync("req-1", TimeSpan.FromMilliseconds(20), CancellationToken.None));

        var waiting = registry.WaitAsync("req-1", TimeSpan.FromSeconds(30), CancellationToken.None);
        second.Complete(Result(12, 0, 3));
        var usage = await waiting;

        Assert.NotNull(usage);
        Assert.Equal(22, usage.PromptTokens);
        Assert.Equal(4, usage.PromptTokensDetails.CachedTokens);
        Assert.Equal(10, usage.CompletionTokens);
        Assert.Equal(0.5, usage.Metering!.ComputeSeconds, 9);
    }

    [Fact]
    public async Task Track_AfterRetention_ForgetsOldRequests()
    {
        var time = new SteppedTime();
        var registry = new FinalUsageRegistry(time);
        var old = new GenerationHandle();
        old.Complete(Result(1, 0, 1));
        registry.Track("req-old", [old]);

        time.Ticks += (FinalUsageRegistry.Retention + TimeSpan.FromSeconds(1)).Ticks;
        var recent = new GenerationHandle();
        recent.Complete(Result(2, 0, 2));
        registry.Track("req-new", [recent]);

        Assert.Null(await registry.WaitAsync("req-old", TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(2, (await registry.WaitAsync("req-new", TimeSpan.Zero, CancellationToken.None))!.CompletionTokens);
        Assert.Equal(1, registry.Count);
    }
}
