using System.Text.Json;
using ServeGate.Core.OpenAi;
using ServeGate.Worker.Api;

namespace ServeGate.Worker.Tests;

/// <summary>The field table: every field is honoured, accepted with a no-op value only, or refused naming it.</summary>
public sealed class RequestFieldsTests
{
    private static readonly string[] OpenAiChatFields =
    [
        "messages", "model", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
        "max_completion_tokens", "max_tokens", "metadata", "modalities", "n", "parallel_tool_calls", "prediction",
        "presence_penalty", "prompt_cache_key", "reasoning_effort", "response_format", "safety_identifier", "seed",
        "service_tier", "stop", "store", "stream", "stream_options", "temperature", "tool_choice", "tools", "top_logprobs",
        "top_p", "user", "verbosity", "web_search_options",
    ];

    private static readonly string[] OpenAiCompletionFields =
    [
        "model", "prompt", "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n",
        "presence_penalty", "seed", "stop", "stream", "stream_options", "suffix", "temperature", "top_p", "user",
    ];

    private static CompletionRequestBody Body(string json) => JsonSerializer.Deserialize(json, OpenAiJsonContext.Default.CompletionRequestBody)!;

    [Fact]
    public void Table_EveryOpenAiField_HasAHandlingForItsEndpoint()
    {
        foreach (var (fields, endpoint) in new[] { (OpenAiChatFields, Endpoints.Chat), (OpenAiCompletionFields, Endpoints.Completions) })
        {
            foreach (var name in fields)
            {
                var field = RequestFields.Find(name);
                Assert.True(
                    field is not null && field.Endpoints.HasFlag(endpoint),
                    $"{name} ({endpoint}) is not in the field table");
            }
        }
    }

    [Fact]
    public void Check_UnknownField_RefusedNamingIt()
    {
        var error = RequestFields.Check(Body("""{"model": "m", "prompt": "x", "mirostat": 2}"""), chat: false);

        Assert.Equal("unsupported_parameter", error!.Code);
        Assert.Equal("mirostat", error.Param);
        Assert.Equal(400, error.Status);
    }

    [Theory]
    [InlineData("""{"store": false}""", null)]
    [InlineData("""{"store": true}""", "store")]
    [InlineData("""{"service_tier": "auto"}""", null)]
    [InlineData("""{"service_tier": "flex"}""", "service_tier")]
    [InlineData("""{"modalities": ["text"]}""", null)]
    [InlineData("""{"modalities": ["text", "audio"]}""", "modalities")]
    [InlineData("""{"metadata": {"k": "v"}, "user": "u", "safety_identifier": "s"}""", null)]
    [InlineData("""{"audio": {"voice": "alloy"}}""", "audio")]
    [InlineData("""{"audio": null}""", null)]
    [InlineData("""{"echo": true}""", "echo")]
    [InlineData("""{"prompt": "x"}""", "prompt")]
    [InlineData("""{"stream_options": {"include_obfuscation": false}}""", null)]
    [InlineData("""{"stream_options": {"foo": 1}}""", "stream_options.foo")]
    public void Check_Chat_NoOpValuesOnly(string json, string? refused)
    {
        var error = RequestFields.Check(Body(json), chat: true);

        Assert.Equal(refused, error?.Param);
        if (refused is not null)
        {
            Assert.Equal("unsupported_parameter", error!.Code);
        }
    }

    [Theory]
    [InlineData("""{"best_of": 1}""", null)]
    [InlineData("""{"best_of": 3}""", "best_of")]
    [InlineData("""{"suffix": ""}""", null)]
    [InlineData("""{"suffix": "end"}""", "suffix")]
    [InlineData("""{"top_logprobs": 2}""", "top_logprobs")]
    [InlineData("""{"messages": []}""", "messages")]
    [InlineData("""{"store": false}""", "store")]
    public void Check_Completions_NoOpValuesOnly(string json, string? refused)
    {
        Assert.Equal(refused, RequestFields.Check(Body(json), chat: false)?.Param);
    }

    [Fact]
    public void Check_ChatOnlyToolFieldsOnCompletions_RefusedNamingThem()
    {
        var error = RequestFields.Check(Body("""{"prompt": "x", "tool_choice": "auto"}"""), chat: false);

        Assert.Equal("tool_choice", error!.Param);
        Assert.Equal("unsupported_parameter", error.Code);
    }

    [Fact]
    public void SamplingFor_SeededChoices_DifferButRepeat()
    {
        var plan = new GenerationPlan(null!, [[], []], 4, new LlamaCpp.SamplingSettings { Seed = 7 }, [], false, false, false, null) { N = 3 };

        Assert.Equal(7u, plan.SamplingFor(0).Seed);
        Assert.Equal(7u, plan.SamplingFor(3).Seed); // the first choice of the second prompt
        Assert.NotEqual(plan.SamplingFor(1).Seed, plan.SamplingFor(2).Seed);
        Assert.NotEqual(7u, plan.SamplingFor(1).Seed);
        Assert.Equal(plan.SamplingFor(1).Seed, plan.SamplingFor(4).Seed);
        Assert.Equal(6, plan.Choices);
    }
}
