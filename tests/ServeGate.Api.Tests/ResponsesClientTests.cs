using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Responses;
using ServeGate.Worker.Models;

namespace ServeGate.Api.Tests;

/// <summary><c>POST /v1/responses</c> through the official OpenAI .NET client's ResponsesClient, as newer SDKs call ServeGate first.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ResponsesClientTests(GatewayFixture gateway)
{
    private static CreateResponseOptions Options(params ResponseItem[] input)
    {
        var options = new CreateResponseOptions { Model = GatewayFixture.InstructModel, Temperature = 0, MaxOutputTokenCount = 16 };
        foreach (var item in input)
        {
            options.InputItems.Add(item);
        }

        return options;
    }

    [Fact]
    public async Task CreateResponse_Text_ReturnsOutputTextAndUsage()
    {
        var client = gateway.OpenAi.GetResponsesClient();
        var options = Options(ResponseItem.CreateUserMessageItem("Name three colours."));
        options.Instructions = "You are terse.";

        var response = (await client.CreateResponseAsync(options)).Value;

        Assert.StartsWith("resp_", response.Id, StringComparison.Ordinal);
        Assert.Contains(response.Status, new ResponseStatus?[] { ResponseStatus.Completed, ResponseStatus.Incomplete });
        Assert.NotEmpty(response.GetOutputText());
        Assert.True(response.Usage.InputTokenCount > 10);
        Assert.InRange(response.Usage.OutputTokenCount, 1, 16);
        Assert.Equal(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task CreateResponseStreaming_Greedy_SameTextAsNotStreamingWithCachedTokensInTheFinalUsage()
    {
        var client = gateway.OpenAi.GetResponsesClient();
        var whole = (await client.CreateResponseAsync(Options(ResponseItem.CreateUserMessageItem("Count to five, slowly.")))).Value;

        var streamed = new System.Text.StringBuilder();
        ResponseResult? final = null;
        var options = Options(ResponseItem.CreateUserMessageItem("Count to five, slowly."));
        options.StreamingEnabled = true;
        await foreach (var update in await client.CreateResponseStreamingAsync(options))
        {
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    streamed.Append(delta.Delta);
                    break;
                case StreamingResponseCompletedUpdate completed:
                    final = completed.Response;
                    break;
                case StreamingResponseIncompleteUpdate incomplete:
                    final = incomplete.Response;
                    break;
            }
        }

        Assert.Equal(whole.GetOutputText(), streamed.ToString());
        Assert.NotNull(final);
        Assert.Equal(whole.GetOutputText(), final.GetOutputText());
        Assert.Equal(whole.Usage.InputTokenCount, final.Usage.InputTokenCount);
        Assert.True(final.Usage.InputTokenDetails.CachedTokenCount > 0, "the same input a second time reuses its prefix");
    }

    [Fact]
    public async Task CreateResponse_TextFormatJsonSchema_OutputValidatesAgainstTheSchema()
    {
        const string Schema = """{"type":"object","properties":{"name":{"type":"string","maxLength":16},"population":{"type":"integer"}},"required":["name","population"],"additionalProperties":false}""";
        var client = gateway.OpenAi.GetResponsesClient();
        var options = Options(ResponseItem.CreateUserMessageItem("A city and its population."));
        options.MaxOutputTokenCount = 96;
        options.TextOptions = new ResponseTextOptions { TextFormat = ResponseTextFormat.CreateJsonSchemaFormat("city", BinaryData.FromString(Schema), jsonSchemaIsStrict: true) };

        var response = (await client.CreateResponseAsync(options)).Value;

        Assert.Equal(ResponseStatus.Completed, response.Status);
        var result = Json.Schema.JsonSchema.FromText(Schema).Evaluate(JsonDocument.Parse(response.GetOutputText()).RootElement);
        Assert.True(result.IsValid, response.GetOutputText());
    }

    [Fact]
    public async Task CreateResponse_RequiredToolThenItsOutput_CallsTheFunctionThenAnswers()
    {
        var client = gateway.OpenAi.GetResponsesClient();
        var weather = ResponseTool.CreateFunctionTool(
            "get_weather",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string","maxLength":20}},"required":["city"],"additionalProperties":false}"""),
            strictModeEnabled: true,
            functionDescription: "The weather in a city.");
        var ask = ResponseItem.CreateUserMessageItem("What is the weather in Paris?");
        var options = Options(ask);
        options.MaxOutputTokenCount = 64;
        options.Tools.Add(weather);
        options.ToolChoice = ResponseToolChoice.CreateRequiredChoice();
        options.ParallelToolCallsEnabled = false; // one call: a random-weight model would otherwise call until max_output_tokens

        var first = (await client.CreateResponseAsync(options)).Value;

        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(first.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        using (var arguments = JsonDocument.Parse(call.FunctionArguments))
        {
            Assert.Equal(JsonValueKind.String, arguments.RootElement.GetProperty("city").ValueKind);
        }

        var followUp = Options(ask, call, ResponseItem.CreateFunctionCallOutputItem(call.CallId, """{"temperature_c": 18}"""));
        followUp.Tools.Add(weather);
        followUp.ToolChoice = ResponseToolChoice.CreateNoneChoice();

        var answer = (await client.CreateResponseAsync(followUp)).Value;

        Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(answer.OutputItems));
        Assert.NotEmpty(answer.GetOutputText());
    }

    [Fact]
    public async Task CreateResponseStreaming_RequiredTool_StreamsTheArgumentsAndEndsWithTheCall()
    {
        var client = gateway.OpenAi.GetResponsesClient();
        var options = Options(ResponseItem.CreateUserMessageItem("Look up Paris."));
        options.MaxOutputTokenCount = 64;
        options.Tools.Add(ResponseTool.CreateFunctionTool(
            "lookup",
            BinaryData.FromString("""{"type":"object","properties":{"q":{"type":"string","maxLength":12}},"required":["q"],"additionalProperties":false}"""),
            strictModeEnabled: true));
        options.ToolChoice = ResponseToolChoice.CreateRequiredChoice();
        options.ParallelToolCallsEnabled = false;
        options.StreamingEnabled = true;

        var arguments = new System.Text.StringBuilder();
        ResponseResult? final = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(options))
        {
            if (update is StreamingResponseFunctionCallArgumentsDeltaUpdate delta)
            {
                arguments.Append(delta.Delta);
            }
            else if (update is StreamingResponseCompletedUpdate completed)
            {
                final = completed.Response;
            }
        }

        Assert.NotNull(final);
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(final.OutputItems));
        Assert.Equal(call.FunctionArguments.ToString(), arguments.ToString());
        using var parsed = JsonDocument.Parse(arguments.ToString());
        Assert.Equal(JsonValueKind.String, parsed.RootElement.GetProperty("q").ValueKind);
    }

    [Fact]
    public async Task CreateResponseStreaming_NamedTool_ArgumentDeltasArriveWhileGenerating()
    {
        var scheduler = gateway.Services.GetRequiredService<ModelRegistry>().All.Single(m => m.Id == GatewayFixture.InstructModel).Scheduler!;
        var client = gateway.OpenAi.GetResponsesClient();
        var options = Options(ResponseItem.CreateUserMessageItem("Write a note."));
        options.MaxOutputTokenCount = 300;
        options.Temperature = 1;
        options.Tools.Add(ResponseTool.CreateFunctionTool(
            "write_note",
            BinaryData.FromString("""{"type":"object","properties":{"text":{"type":"string","minLength":80,"maxLength":80}},"required":["text"],"additionalProperties":false}"""),
            strictModeEnabled: true));
        options.ToolChoice = ResponseToolChoice.CreateFunctionChoice("write_note");
        options.ParallelToolCallsEnabled = false;
        options.StreamingEnabled = true;

        var deltas = new List<string>();
        long? atFirstDelta = null;
        ResponseResult? final = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(options))
        {
            if (update is StreamingResponseFunctionCallArgumentsDeltaUpdate delta)
            {
                atFirstDelta ??= scheduler.Counters.CompletionTokens;
                deltas.Add(delta.Delta.ToString());
            }
            else if (update is StreamingResponseCompletedUpdate completed)
            {
                final = completed.Response;
            }
        }

        Assert.NotNull(final);
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(final.OutputItems));
        Assert.Equal(call.FunctionArguments.ToString(), string.Concat(deltas));
        Assert.Equal(80, JsonDocument.Parse(string.Concat(deltas)).RootElement.GetProperty("text").GetString()!.Length);
        Assert.True(deltas.Count > 3, $"{deltas.Count} deltas");
        Assert.True(scheduler.Counters.CompletionTokens - atFirstDelta >= 10, $"{scheduler.Counters.CompletionTokens - atFirstDelta} tokens after the first delta");
    }
}
