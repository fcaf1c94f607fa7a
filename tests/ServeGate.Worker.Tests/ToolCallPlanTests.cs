using System.Text.Json;
using ServeGate.Core.OpenAi;
using ServeGate.Worker.Tools;

namespace ServeGate.Worker.Tests;

/// <summary>The grammar a forced tool choice samples under, checked through llama.cpp's grammar engine.</summary>
public sealed class ToolCallPlanTests(TinyModelFixture models) : IClassFixture<TinyModelFixture>
{
    private const string Call = "<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}\n</tool_call>";

    private static string Grammar(string toolChoice)
    {
        var body = JsonSerializer.Deserialize("""
            {"model": "m", "messages": [{"role": "user", "content": "Weather?"}], "tool_choice": TOOL_CHOICE,
             "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
               "properties": {"city": {"type": "string", "enum": ["Paris", "Oslo"]}}, "required": ["city"], "additionalProperties": false}}}]}
            """.Replace("TOOL_CHOICE", toolChoice, StringComparison.Ordinal), OpenAiJsonContext.Default.CompletionRequestBody)!;
        Assert.Null(ToolCallPlan.Read(body, out var plan));
        return plan!.Grammar!;
    }

    [Theory]
    [InlineData("""{"type": "function", "function": {"name": "get_weather"}}""", false)]
    [InlineData("\"required\"", true)]
    public void Grammar_ParallelCallsAllowed_SecondCallOnlyUnlessNamed(string toolChoice, bool secondCallAllowed)
    {
        var grammar = Grammar(toolChoice);

        Assert.True(JsonSchemaGrammarTests.Matches(models.Base, grammar, Call));
        Assert.Equal(secondCallAllowed, JsonSchemaGrammarTests.Matches(models.Base, grammar, Call + "\n" + Call));
    }
}
