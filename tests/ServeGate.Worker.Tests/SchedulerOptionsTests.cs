using ServeGate.Worker.Scheduling;

namespace ServeGate.Worker.Tests;

public sealed class SchedulerOptionsTests
{
    [Theory]
    [InlineData(FlashAttentionMode.Auto, false, null)]
    [InlineData(FlashAttentionMode.On, false, true)]
    [InlineData(FlashAttentionMode.Off, false, false)]
    [InlineData(FlashAttentionMode.Off, true, true)] // batch invariance needs flash attention's per-sequence visits
    public void ResolveFlashAttention_ModeAndBatchInvariance_GiveContextSetting(FlashAttentionMode mode, bool batchInvariant, bool? expected) =>
        Assert.Equal(expected, new SchedulerOptions { FlashAttention = mode, BatchInvariant = batchInvariant }.ResolveFlashAttention());

    [Fact]
    public void Validate_UnknownFlashAttentionMode_IsReported() =>
        Assert.Contains(new SchedulerOptions { FlashAttention = (FlashAttentionMode)7 }.Validate(), e => e.Contains("FlashAttention", StringComparison.Ordinal));

    [Theory]
    [InlineData(-1, true)]
    [InlineData(0, false)]
    [InlineData(20, false)]
    [InlineData(1001, true)]
    public void Validate_GatherWindow_BetweenZeroAndOneSecond(int milliseconds, bool reported) =>
        Assert.Equal(reported, new SchedulerOptions { GatherWindow = TimeSpan.FromMilliseconds(milliseconds) }.Validate()
            .Any(e => e.StartsWith("GatherWindow", StringComparison.Ordinal)));
}
