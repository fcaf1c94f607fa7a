using ServeGate.Worker.Inference;

namespace ServeGate.Worker.Tests;

public sealed class StopSequenceMatcherTests
{
    [Fact]
    public void Append_NoStops_PassesTextThrough()
    {
        var matcher = new StopSequenceMatcher([]);

        Assert.Equal("abc", matcher.Append("abc"));
        Assert.False(matcher.Stopped);
    }

    [Fact]
    public void Append_StopSplitAcrossPieces_NeverReleasesPartialStop()
    {
        var matcher = new StopSequenceMatcher(["END"]);

        var shown = matcher.Append("hello E") + matcher.Append("N");

        Assert.Equal("hello ", shown);
        Assert.False(matcher.Stopped);
        Assert.Equal(string.Empty, matcher.Append("D and more"));
        Assert.True(matcher.Stopped);
    }

    [Fact]
    public void Append_PrefixThatDoesNotBecomeStop_IsReleasedLater()
    {
        var matcher = new StopSequenceMatcher(["END"]);

        var first = matcher.Append("the EN");
        var second = matcher.Append("ding");

        Assert.Equal("the ", first);
        Assert.Equal("ENding", second);
        Assert.False(matcher.Stopped);
    }

    [Fact]
    public void Append_SeveralStops_CutsAtEarliest()
    {
        var matcher = new StopSequenceMatcher(["\n\n", "###"]);

        var shown = matcher.Append("a###b\n\nc");

        Assert.Equal("a", shown);
        Assert.True(matcher.Stopped);
    }

    [Fact]
    public void Flush_HeldBackText_IsReturned()
    {
        var matcher = new StopSequenceMatcher(["STOP"]);

        var shown = matcher.Append("xx ST");

        Assert.Equal("xx ", shown);
        Assert.Equal("ST", matcher.Flush());
    }
}
