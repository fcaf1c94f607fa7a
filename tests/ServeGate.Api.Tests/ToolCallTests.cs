using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using ServeGate.Core.OpenAi;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;
using ServeGate.Worker.Models;
using ServeGate.Worker.Tools;
using Xunit.Abstractions;

namespace ServeGate.Api.Tests;

/// <summary>
/// Tool calls through the official OpenAI .NET client. A forced call is grammar-constrained, so even the random-weight
/// test model's calls parse and their arguments validate against the function's schema.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ToolCallTests(GatewayFixture gateway, ITestOutputHelper output)
{
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string","maxLength":10},"unit":{"enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false}""";

    private const string TimeSchema = """{"type":"object","properties":{"zone":{"type":"integer"}},"required":["zone"]}""";

    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool("get_weather", "The weather in a city now.", BinaryData.FromString(WeatherSchema));

    private static readonly ChatTool Time = ChatTool.CreateFunctionTool("get_time", "The time in a zone.", BinaryData.FromString(TimeSchema));

    private static List<ChatMessage> Conversation() => [new UserChatMessage("What is the weather in Paris?")];

    private static ChatCompletionOptions Options(ChatToolChoice choice, int seed, bool parallel = false)
    {
        var options = new ChatCompletionOptions { ToolChoice = choice, Temperature = 1f, Seed = seed, MaxOutputTokenCount = 120, AllowParallelToolCalls = parallel };
        options.Tools.Add(Weather);
        options.Tools.Add(Time);
        return options;
    }

    private static void AssertValid(string schema, string arguments)
    {
        using var document = JsonDocument.Parse(arguments);
        Assert.True(JsonSchema.FromText(schema).Evaluate(document.RootElement).IsValid, arguments);
    }

    [Fact]
    public async Task CompleteChat_RequiredThenToolResult_RoundTrip()
    {
        var client = gateway.OpenAi.GetChatClient(GatewayFixture.InstructModel);
        var messages = Conversation();

        var call = (await client.CompleteChatAsync(messages, Options(ChatToolChoice.CreateRequiredChoice(), seed: 1))).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, call.FinishReason);
        var toolCall = Assert.Single(call.ToolCalls);
        Assert.StartsWith("call_", toolCall.Id, StringComparison.Ordinal);
        Assert.Equal(ChatToolCallKind.Function, toolCall.Kind);
        Assert.Contains(toolCall.FunctionName, new[] { "get_weather", "get_time" });
        AssertValid(toolCall.FunctionName == "get_weather" ? WeatherSchema : TimeSchema, toolCall.FunctionArguments.ToString());
        Assert.Empty(call.Content);

        messages.Add(new AssistantChatMessage(call));
        messages.Add(new ToolChatMessage(toolCall.Id, """{"temperature":21,"sky":"clear"}"""));
        var answer = (await client.CompleteChatAsync(messages, new ChatCompletionOptions
        {
            Tools = { Weather, Time },
            ToolChoice = ChatToolChoice.CreateNoneChoice(),
            Temperature = 0,
            MaxOutputTokenCount = 16,
        })).Value;

        Assert.Contains(answer.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.Empty(answer.ToolCalls);
        Assert.True(answer.Usage.InputTokenCount > call.Usage.InputTokenCount);
    }

    [Fact]
    public async Task CompleteChat_NamedFunction_CallsThatFunction()
    {
        var client = gateway.OpenAi.GetChatClient(GatewayFixture.InstructModel);

        foreach (var seed in new[] { 2, 3, 4 })
        {
            var call = (await client.CompleteChatAsync(Conversation(), Options(ChatToolChoice.CreateFunctionChoice("get_time"), seed))).Value;

            Assert.Equal(ChatFinishReason.ToolCalls, call.FinishReason);
            var toolCall = Assert.Single(call.ToolCalls);
            Assert.Equal("get_time", toolCall.FunctionName);
            AssertValid(TimeSchema, toolCall.FunctionArguments.ToString());
        }
    }

    [Fact]
    public async Task CompleteChatStreaming_Required_ToolCallUpdatesAddUpToTheNonStreamedCall()
    {
        var client = gateway.OpenAi.GetChatClient(GatewayFixture.InstructModel);
        var options = Options(ChatToolChoice.CreateRequiredChoice(), seed: 5);
        var whole = (await client.CompleteChatAsync(Conversation(), options)).Value;

        var ids = new Dictionary<int, string>();
        var names = new Dictionary<int, string>();
        var arguments = new Dictionary<int, StringBuilder>();
        ChatFinishReason? finish = null;
        var fragments = 0;
        await foreach (var update in client.CompleteChatStreamingAsync(Conversation(), options))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                if (part.ToolCallId is not null)
                {
                    ids[part.Index] = part.ToolCallId;
                }

                if (part.FunctionName is not null)
                {
                    names[part.Index] = part.FunctionName;
                }

                if (part.FunctionArgumentsUpdate is { } fragment && !fragment.ToMemory().IsEmpty)
                {
                    fragments++;
                    (arguments.TryGetValue(part.Index, out var text) ? text : arguments[part.Index] = new StringBuilder()).Append(fragment.ToString());
                }
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        var expected = Assert.Single(whole.ToolCalls);
        Assert.Equal([0], ids.Keys);
        Assert.StartsWith("call_", ids[0], StringComparison.Ordinal);
        Assert.Equal(expected.FunctionName, names[0]);
        Assert.Equal(expected.FunctionArguments.ToString(), arguments[0].ToString());
        Assert.True(fragments >= 1);
    }

    [Fact]
    public async Task CompleteChat_ParallelAllowed_EveryCallValidates()
    {
        var client = gateway.OpenAi.GetChatClient(GatewayFixture.InstructModel);
        var options = Options(ChatToolChoice.CreateRequiredChoice(), seed: 11, parallel: true);
        options.MaxOutputTokenCount = 220;

        var call = (await client.CompleteChatAsync(Conversation(), options)).Value;

        if (call.FinishReason == ChatFinishReason.ToolCalls)
        {
            Assert.InRange(call.ToolCalls.Count, 1, 8);
            Assert.Equal(call.ToolCalls.Count, call.ToolCalls.Select(c => c.Id).Distinct().Count());
            foreach (var toolCall in call.ToolCalls)
            {
                AssertValid(toolCall.FunctionName == "get_weather" ? WeatherSchema : TimeSchema, toolCall.FunctionArguments.ToString());
            }
        }
        else
        {
            Assert.Equal(ChatFinishReason.Length, call.FinishReason);
        }
    }

    /// <summary>A call whose arguments take many tokens: an 80-character string.</summary>
    private const string NoteSchema = """{"type":"object","properties":{"text":{"type":"string","minLength":80,"maxLength":80}},"required":["text"],"additionalProperties":false}""";

    [Fact]
    public async Task ChatStream_NamedCall_NameSentWhileGeneratingThenArgumentsInFragments()
    {
        var scheduler = gateway.Services.GetRequiredService<ModelRegistry>().All.Single(m => m.Id == GatewayFixture.InstructModel).Scheduler!;
        var body = JsonNode.Parse("""
            {"model": "tiny-instruct", "messages": [{"role": "user", "content": "Write a note."}], "stream": true,
             "temperature": 1, "seed": 7, "max_tokens": 300,
             "tools": [{"type": "function", "function": {"name": "write_note", "parameters": {}}}],
             "tool_choice": {"type": "function", "function": {"name": "write_note"}}}
            """)!.AsObject();
        body["tools"]![0]!["function"]!["parameters"] = JsonNode.Parse(NoteSchema);

        // Each chunk with the scheduler's completion-token count when the client read it.
        var chunks = new List<(JsonNode Chunk, long Tokens)>();
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/chat/completions", UriKind.Relative)) { Content = content };
        using (var response = await gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: {", StringComparison.Ordinal))
                {
                    chunks.Add((JsonNode.Parse(line["data: ".Length..])!, scheduler.Counters.CompletionTokens));
                }
            }
        }

        var generated = scheduler.Counters.CompletionTokens;
        var deltas = chunks.Where(c => c.Chunk["choices"]![0]!["delta"]?["tool_calls"] is not null).ToList();
        var opening = deltas[0].Chunk["choices"]![0]!["delta"]!["tool_calls"]![0]!;
        Assert.Equal(0, (int)opening["index"]!);
        Assert.StartsWith("call_", (string)opening["id"]!, StringComparison.Ordinal);
        Assert.Equal("function", (string?)opening["type"]);
        Assert.Equal("write_note", (string?)opening["function"]!["name"]);
        Assert.Equal(string.Empty, (string?)opening["function"]!["arguments"]);
        var fragments = deltas.Skip(1).Select(c => c.Chunk["choices"]![0]!["delta"]!["tool_calls"]![0]!).ToList();
        Assert.All(fragments, f => Assert.Null(f["id"]));
        var arguments = string.Concat(fragments.Select(f => (string)f["function"]!["arguments"]!));
        AssertValid(NoteSchema, arguments);
        Assert.Equal("tool_calls", (string?)chunks[^1].Chunk["choices"]![0]!["finish_reason"]);
        Assert.DoesNotContain(chunks, c => ((string?)c.Chunk["choices"]![0]!["delta"]?["content"])?.Length > 0);

        // Token-sized fragments, not the whole text cut in pieces at the end; and the name was read while the
        // scheduler still had tokens to generate (the 80-character string came after it).
        Assert.True(fragments.Count > Math.Max(2, (arguments.Length + 31) / 32), $"{fragments.Count} fragments for {arguments.Length} characters");
        Assert.True(generated - deltas[0].Tokens >= 10, $"{generated - deltas[0].Tokens} tokens generated after the name was read");
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    public async Task CompleteChat_ParallelRequired_AtMostEightCallsEachValid(int seed, bool stream)
    {
        var client = gateway.OpenAi.GetChatClient(GatewayFixture.InstructModel);
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateRequiredChoice(), Temperature = 1f, Seed = seed, MaxOutputTokenCount = 250, AllowParallelToolCalls = true };
        options.Tools.Add(ChatTool.CreateFunctionTool("ping", "Checks the line.", BinaryData.FromString(PingSchema)));
        options.Tools.Add(Time);

        var calls = new List<(string Name, string Arguments)>();
        ChatFinishReason? finish;
        if (stream)
        {
            var names = new Dictionary<int, string>();
            var arguments = new Dictionary<int, StringBuilder>();
            finish = null;
            await foreach (var update in client.CompleteChatStreamingAsync(Conversation(), options))
            {
                foreach (var part in update.ToolCallUpdates)
                {
                    if (part.FunctionName is not null)
                    {
                        names[part.Index] = part.FunctionName;
                        arguments[part.Index] = new StringBuilder();
                    }

                    arguments[part.Index].Append(part.FunctionArgumentsUpdate?.ToString());
                }

                finish ??= update.FinishReason;
            }

            // A stream cut by the token limit has sent its last call in part: finish_reason length says so.
            var finished = finish == ChatFinishReason.Length ? names.Count - 1 : names.Count;
            calls.AddRange(names.Keys.Order().Take(finished).Select(k => (names[k], arguments[k].ToString())));
            Assert.InRange(names.Count, 1, ToolCallPlan.MaxParallelCalls);
        }
        else
        {
            var answer = (await client.CompleteChatAsync(Conversation(), options)).Value;
            finish = answer.FinishReason;
            calls.AddRange(answer.ToolCalls.Select(c => (c.FunctionName, c.FunctionArguments.ToString())));
            Assert.Empty(answer.Content);
        }

        output.WriteLine($"seed {seed}, stream {stream}: finish {finish}, {calls.Count} finished calls");
        Assert.Contains(finish, new ChatFinishReason?[] { ChatFinishReason.ToolCalls, ChatFinishReason.Length });
        Assert.InRange(calls.Count, finish == ChatFinishReason.ToolCalls ? 1 : 0, ToolCallPlan.MaxParallelCalls);
        foreach (var (name, arguments) in calls)
        {
            AssertValid(name == "ping" ? PingSchema : TimeSchema, arguments);
        }
    }

    /// <summary>A call with no arguments: <c>{}</c> only, so a run of 250 tokens holds several calls.</summary>
    private const string PingSchema = """{"type":"object","properties":{},"additionalProperties":false}""";

    [Fact]
    public void ToolGrammar_ParallelRequired_EndsAfterTheEighthCall()
    {
        var model = gateway.Services.GetRequiredService<ModelRegistry>().All.Single(m => m.Id == GatewayFixture.InstructModel).Model!;
        var body = JsonSerializer.Deserialize("""
            {"tools": [{"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}}}], "tool_choice": "required"}
            """, OpenAiJson.Context.CompletionRequestBody)!;
        Assert.Null(ToolCallPlan.Read(body, out var plan));
        using var grammar = LlamaGrammar.Create(model, plan!.Grammar!);

        // One token per character: every ASCII character has a token of its own (byte fallback).
        var tokens = new Dictionary<char, LlamaToken>();
        for (var id = model.VocabSize - 1; id >= 0; id--)
        {
            if (model.Detokenize([new LlamaToken(id)]) is [var c])
            {
                tokens[c] = new LlamaToken(id);
            }
        }

        void Feed(string text)
        {
            foreach (var c in text)
            {
                Assert.True(grammar.Allows(tokens[c]), $"'{c}' refused");
                grammar.Accept(tokens[c]);
            }
        }

        for (var call = 1; call <= ToolCallPlan.MaxParallelCalls; call++)
        {
            Feed(ToolPromptFormat.CallOpen + """{"name":"ping","arguments":{}}""" + ToolPromptFormat.CallClose);
            Assert.True(grammar.Allows(model.Eos));
            Assert.Equal(call < ToolCallPlan.MaxParallelCalls, grammar.Allows(tokens['\n']));
            if (call < ToolCallPlan.MaxParallelCalls)
            {
                Feed("\n");
            }
        }
    }

    [Fact]
    public async Task CompleteChat_Auto_AnswersOrCalls()
    {
        var client = gateway.OpenAi.GetChatClient(GatewayFixture.InstructModel);

        var answer = (await client.CompleteChatAsync(Conversation(), Options(ChatToolChoice.CreateAutoChoice(), seed: 6))).Value;

        // Random weights do not write <tool_call> blocks: the answer is text.
        Assert.Contains(answer.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length, ChatFinishReason.ToolCalls });
        Assert.True(answer.FinishReason == ChatFinishReason.ToolCalls ? answer.ToolCalls.Count > 0 : answer.Content.Count == 1);
    }

    [Theory]
    [InlineData("""{"tools":[{"type":"retrieval"}]}""", "tools[0].type")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a b"}}]}""", "tools[0].function.name")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"x":{"type":"string","pattern":"^a"}}}}}],"tool_choice":"required"}""", "tools[0].function.parameters.properties.x.pattern")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}""", "tool_choice")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"always"}""", "tool_choice")]
    [InlineData("""{"tool_choice":"required"}""", "tool_choice")]
    [InlineData("""{"parallel_tool_calls":false}""", "parallel_tool_calls")]
    public async Task BadTools_400WithParam(string extra, string param)
    {
        var body = JsonNode.Parse(extra)!.AsObject();
        body["model"] = GatewayFixture.InstructModel;
        body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" });

        var (status, error) = await PostAsync("/v1/chat/completions", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(param, (string?)error["param"]);
    }

    [Fact]
    public async Task ToolMessage_WithoutToolCallId_400()
    {
        var body = new JsonObject
        {
            ["model"] = GatewayFixture.InstructModel,
            ["messages"] = JsonNode.Parse("""[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"42"}]"""),
        };

        var (status, error) = await PostAsync("/v1/chat/completions", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("messages[2].tool_call_id", (string?)error["param"]);
    }

    [Fact]
    public async Task Tools_OnCompletions_400()
    {
        var body = new JsonObject { ["model"] = GatewayFixture.BaseModel, ["prompt"] = "x", ["tools"] = new JsonArray() };

        var (status, error) = await PostAsync("/v1/completions", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("tools", (string?)error["param"]);
    }

    private async Task<(HttpStatusCode Status, JsonNode Error)> PostAsync(string path, JsonObject body)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await gateway.Http.PostAsync(new Uri(path, UriKind.Relative), content);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!);
    }
}
