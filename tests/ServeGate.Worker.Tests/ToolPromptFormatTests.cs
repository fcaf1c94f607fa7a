using System.Text.Json;
using ServeGate.Worker.Tools;

namespace ServeGate.Worker.Tests;

/// <summary>Parsing calls out of generated text: what the chat response, its stream and the Responses API build on.</summary>
public sealed class ToolPromptFormatTests
{
    private static readonly ToolFunction[] Functions =
    [
        new("get_weather", null, "{}", JsonDocument.Parse("{}").RootElement.Clone()),
        new("get_time", null, "{}", JsonDocument.Parse("{}").RootElement.Clone()),
    ];

    [Fact]
    public void Parse_TextOnly_ContentNoCalls()
    {
        var output = ToolPromptFormat.Parse("It is sunny.", Functions, parallel: true);

        Assert.Equal("It is sunny.", output.Content);
        Assert.Empty(output.Calls);
    }

    [Fact]
    public void Parse_TextThenTwoCalls_ContentAndBothCalls()
    {
        var text = "Let me look.\n<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>";

        var output = ToolPromptFormat.Parse(text, Functions, parallel: true);

        Assert.Equal("Let me look.", output.Content);
        Assert.Equal(["get_weather", "get_time"], output.Calls.Select(c => c.Name));
        Assert.Equal("{\"city\":\"Paris\"}", output.Calls[0].Arguments);
        Assert.All(output.Calls, c => Assert.Matches("^call_[A-Za-z0-9]{24}$", c.Id));
        Assert.NotEqual(output.Calls[0].Id, output.Calls[1].Id);
    }

    [Fact]
    public void Parse_ParallelOff_FirstCallOnly()
    {
        var text = "<tool_call>\n{\"name\":\"get_time\",\"arguments\":{}}\n</tool_call>\n<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{}}\n</tool_call>";

        var output = ToolPromptFormat.Parse(text, Functions, parallel: false);

        Assert.Null(output.Content);
        Assert.Equal("get_time", Assert.Single(output.Calls).Name);
    }

    [Fact]
    public void Parse_ArgumentsAsJsonString_Unwrapped()
    {
        var output = ToolPromptFormat.Parse("<tool_call>{\"name\":\"get_time\",\"arguments\":\"{\\\"zone\\\": 2}\"}</tool_call>", Functions, parallel: true);

        Assert.Equal("{\"zone\":2}", Assert.Single(output.Calls).Arguments);
    }

    [Theory]
    [InlineData("<tool_call>\n{\"name\":\"unknown\",\"arguments\":{}}\n</tool_call>")]
    [InlineData("<tool_call>\n{\"name\":\"get_time\",\"arguments\":{\n</tool_call>")]
    [InlineData("<tool_call>\n{\"name\":\"get_time\",\"arguments\":{}}")]
    [InlineData("<tool_call>\n{\"name\":\"get_time\",\"arguments\":[1]}\n</tool_call>")]
    [InlineData("<tool_call>\n{\"name\":\"get_time\",\"arguments\":{}}\n</tool_call> and more text")]
    public void Parse_MalformedCall_AllTextIsContent(string text)
    {
        var output = ToolPromptFormat.Parse(text, Functions, parallel: true);

        Assert.Equal(text, output.Content);
        Assert.Empty(output.Calls);
    }

    [Theory]
    [InlineData("<tool_call>\n{\"name\":\"get_time\",\"arguments\":{}}\n</tool_call>\n<tool_call>\n{\"name\":\"get_wea", 1)]
    [InlineData("<tool_call>\n{\"name\":\"get_time\",\"arguments\":{}}\n</tool_call>\n<tool_c", 1)]
    [InlineData("<tool_call>\n{\"name\":\"get_time\",\"arguments\":{}}\n</tool_call>\n<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{}}\n</tool_", 1)]
    [InlineData("<tool_call>\n{\"name\":\"get_time\",\"arguments\":{\"zo", 0)]
    public void ParseCutOff_UnfinishedCallAtTheEnd_OnlyFinishedCalls(string text, int calls)
    {
        var output = ToolPromptFormat.ParseCutOff(text, Functions, parallel: true);

        Assert.Null(output.Content);
        Assert.Equal(calls, output.Calls.Count);
        Assert.All(output.Calls, c => Assert.Equal("get_time", c.Name));
    }

    [Fact]
    public void ParseCutOff_TextWithoutCalls_Unchanged()
    {
        var output = ToolPromptFormat.ParseCutOff("It is 3 < 4 and <tool", Functions, parallel: true);

        Assert.Equal("It is 3 < 4 and <tool", output.Content);
        Assert.Empty(output.Calls);
    }
}
