using System.Text;
using System.Text.Json;
using ServeGate.Worker.Tools;

namespace ServeGate.Worker.Tests;

/// <summary>The incremental parser a streamed answer with tools goes through: same result however the text is split.</summary>
public sealed class ToolCallStreamParserTests
{
    private static readonly ToolFunction[] Functions =
    [
        new("get_weather", null, "{}", JsonDocument.Parse("{}").RootElement.Clone()),
        new("get_time", null, "{}", JsonDocument.Parse("{}").RootElement.Clone()),
    ];

    private const string TwoCalls = "Let me look.\n<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Pa}ri{s\\\"\",\"unit\":\"c\"}}\n</tool_call>\n"
        + "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": [1, {\"a\": \"]\"}]}}\n</tool_call>";

    /// <summary>What a client assembles from the deltas, and the order rules it relies on.</summary>
    private sealed record Assembled(string Content, List<(string Id, string Name, string Arguments)> Calls, bool OpenedBeforeFragments);

    private static Assembled Run(IEnumerable<string> pieces, bool cutOff = false, bool parallel = true)
    {
        var parser = new ToolCallStreamParser(Functions, parallel);
        var deltas = new List<ToolStreamDelta>();
        foreach (var piece in pieces)
        {
            parser.Push(piece, deltas);
        }

        parser.End(cutOff, deltas);
        return Assemble(deltas);
    }

    private static Assembled Assemble(List<ToolStreamDelta> deltas)
    {
        var content = new StringBuilder();
        var calls = new List<(string Id, string Name, StringBuilder Arguments)>();
        var ordered = true;
        foreach (var delta in deltas)
        {
            if (delta.Content is not null)
            {
                content.Append(delta.Content);
            }
            else if (delta.CallId is not null)
            {
                ordered &= delta.CallIndex == calls.Count && delta.Arguments == string.Empty;
                calls.Add((delta.CallId, delta.Name!, new StringBuilder()));
            }
            else
            {
                ordered &= delta.CallIndex == calls.Count - 1 && delta.Arguments!.Length > 0;
                calls[delta.CallIndex].Arguments.Append(delta.Arguments);
            }
        }

        return new Assembled(content.ToString(), [.. calls.Select(c => (c.Id, c.Name, c.Arguments.ToString()))], ordered);
    }

    private static void AssertTwoCalls(Assembled result, string because)
    {
        var whole = ToolPromptFormat.Parse(TwoCalls, Functions, parallel: true);
        Assert.True(result.OpenedBeforeFragments, because);
        Assert.Equal(whole.Content, result.Content);
        Assert.Equal(whole.Calls.Select(c => (c.Name, c.Arguments)), result.Calls.Select(c => (c.Name, c.Arguments)));
        Assert.All(result.Calls, c => Assert.Matches("^call_[A-Za-z0-9]{24}$", c.Id));
        Assert.NotEqual(result.Calls[0].Id, result.Calls[1].Id);
    }

    [Fact]
    public void Push_SplitAtEveryCharacter_SameContentAndCallsAsTheWholeText()
    {
        for (var i = 0; i <= TwoCalls.Length; i++)
        {
            AssertTwoCalls(Run([TwoCalls[..i], TwoCalls[i..]]), $"split at {i}");
        }
    }

    [Fact]
    public void Push_SplitAtEveryPairOfPoints_SameContentAndCalls()
    {
        for (var i = 0; i <= TwoCalls.Length; i += 3)
        {
            for (var j = i; j <= TwoCalls.Length; j += 5)
            {
                AssertTwoCalls(Run([TwoCalls[..i], TwoCalls[i..j], TwoCalls[j..]]), $"split at {i} and {j}");
            }
        }
    }

    [Fact]
    public void Push_OneCharacterAtATime_ArgumentsArriveInFragments()
    {
        var parser = new ToolCallStreamParser(Functions, parallel: true);
        var deltas = new List<ToolStreamDelta>();
        foreach (var c in TwoCalls)
        {
            parser.Push(c.ToString(), deltas);
        }

        parser.End(cutOff: false, deltas);

        AssertTwoCalls(Assemble(deltas), "one character at a time");
        Assert.True(deltas.Count(d => d.CallIndex == 0 && d.CallId is null) > 10);
        Assert.Equal(2, parser.CallCount);
    }

    [Fact]
    public void Push_TextThenPartialTag_TextSentAtOnceTagHeld()
    {
        var parser = new ToolCallStreamParser(Functions, parallel: true);
        var deltas = new List<ToolStreamDelta>();

        parser.Push("Hello a<b world\n<tool_", deltas);
        var early = deltas.ToList();
        parser.Push("call>\n{\"name\":\"get_time\",\"arguments\":{\"zone\"", deltas);

        Assert.Equal("Hello a<b world", Assert.Single(early).Content);
        Assert.Equal(ToolStreamDelta.Open(0, deltas[1].CallId!, "get_time"), deltas[1]);
        Assert.Equal("{\"zone\"", deltas[2].Arguments);
        Assert.True(parser.InsideCall);
    }

    [Fact]
    public void End_TextWithoutCalls_AllOfItIsContent()
    {
        var result = Run(["It is 3 < 4 ", "and <tool"]);

        Assert.Equal("It is 3 < 4 and <tool", result.Content);
        Assert.Empty(result.Calls);
    }

    [Fact]
    public void End_CutOffInsideArguments_CallStaysOpen()
    {
        var parser = new ToolCallStreamParser(Functions, parallel: true);
        var deltas = new List<ToolStreamDelta>();

        parser.Push("<tool_call>\n{\"name\":\"get_time\",\"arguments\":{\"zo", deltas);
        parser.End(cutOff: true, deltas);

        Assert.True(parser.InsideCall);
        Assert.Equal(1, parser.CallCount);
    }

    [Fact]
    public void End_CutOffInsideHeader_NothingSent()
    {
        var result = Run(["<tool_call>\n{\"name\":\"get_"], cutOff: true);

        Assert.Equal(string.Empty, result.Content);
        Assert.Empty(result.Calls);
    }

    [Theory]
    [InlineData("<tool_call>\n{\"name\":\"unknown\",\"arguments\":{}}\n</tool_call>")]
    [InlineData("<tool_call>\n{\"name\":\"get_time\",\"arguments\":[1]}\n</tool_call>")]
    [InlineData("<tool_call>\nnot json\n</tool_call>")]
    public void Push_BlockThatIsNoCall_Content(string text)
    {
        var result = Run([text[..20], text[20..]]);

        Assert.Equal(text, result.Content);
        Assert.Empty(result.Calls);
    }

    [Fact]
    public void Push_ArgumentsAsJsonString_OneCallWithTheObject()
    {
        var result = Run(["<tool_call>{\"name\":\"get_time\",\"argu", "ments\":\"{\\\"zone\\\": 2}\"}</tool_call>"]);

        Assert.Equal("{\"zone\":2}", Assert.Single(result.Calls).Arguments);
        Assert.True(result.OpenedBeforeFragments);
    }

    [Fact]
    public void Push_ParallelOff_FirstCallOnly()
    {
        var result = Run([TwoCalls], parallel: false);

        Assert.Equal("Let me look.", result.Content);
        Assert.Equal("get_weather", Assert.Single(result.Calls).Name);
    }
}
