using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ServeGate.Worker.Api;
using ServeGate.Worker.Models;

namespace ServeGate.Api.Tests;

/// <summary>
/// Every request field of OpenAI's chat and completions APIs, sent with a plausible non-default value: honoured, or
/// refused with 400 unsupported_parameter naming it; never ignored. Then n, echo and their usage.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenAiFieldsTests(GatewayFixture gateway)
{
    /// <summary>OpenAI's chat fields (API reference), each with a value that would change something, and what it needs beside it.</summary>
    private static readonly (string Name, string Value, string Extra)[] ChatFields =
    [
        ("audio", """{"voice": "alloy", "format": "wav"}""", ""),
        ("frequency_penalty", "0.5", ""),
        ("function_call", "\"auto\"", ""),
        ("functions", """[{"name": "f", "parameters": {"type": "object"}}]""", ""),
        ("logit_bias", """{"100": 5}""", ""),
        ("logprobs", "true", ""),
        ("max_completion_tokens", "3", ""),
        ("max_tokens", "3", ""),
        ("metadata", """{"k": "v"}""", ""),
        ("modalities", """["text", "audio"]""", ""),
        ("n", "2", ""),
        ("parallel_tool_calls", "false", "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}],"),
        ("prediction", """{"type": "content", "content": "Hello"}""", ""),
        ("presence_penalty", "0.5", ""),
        ("prompt_cache_key", "\"k\"", ""),
        ("reasoning_effort", "\"low\"", ""),
        ("response_format", """{"type": "json_object"}""", ""),
        ("safety_identifier", "\"s\"", ""),
        ("seed", "5", ""),
        ("service_tier", "\"flex\"", ""),
        ("stop", """["\n"]""", ""),
        ("store", "true", ""),
        ("stream", "true", ""),
        ("stream_options", """{"include_usage": true}""", "\"stream\": true,"),
        ("temperature", "0.5", ""),
        ("tool_choice", "\"none\"", "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}],"),
        ("tools", """[{"type": "function", "function": {"name": "f"}}]""", ""),
        ("top_logprobs", "2", "\"logprobs\": true,"),
        ("top_p", "0.9", ""),
        ("user", "\"u\"", ""),
        ("verbosity", "\"low\"", ""),
        ("web_search_options", "{}", ""),
        ("top_k", "5", ""),
        ("min_p", "0.1", ""),
        ("ignore_eos", "true", ""),
        ("mirostat", "2", ""),
    ];

    private static readonly (string Name, string Value, string Extra)[] CompletionFields =
    [
        ("best_of", "2", ""),
        ("echo", "true", ""),
        ("frequency_penalty", "0.5", ""),
        ("logit_bias", """{"100": 5}""", ""),
        ("logprobs", "2", ""),
        ("max_tokens", "3", ""),
        ("n", "2", ""),
        ("presence_penalty", "0.5", ""),
        ("seed", "5", ""),
        ("stop", """["\n"]""", ""),
        ("stream", "true", ""),
        ("stream_options", """{"include_usage": true}""", "\"stream\": true,"),
        ("suffix", "\"the end\"", ""),
        ("temperature", "0.5", ""),
        ("top_p", "0.9", ""),
        ("user", "\"u\"", ""),
        ("top_k", "5", ""),
        ("min_p", "0.1", ""),
        ("ignore_eos", "true", ""),
        ("mirostat", "2", ""),
    ];

    private async Task<(HttpStatusCode Status, string Text)> PostAsync(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await gateway.Http.PostAsync(new Uri(path, UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonNode> PostOkAsync(string path, string json)
    {
        var (status, text) = await PostAsync(path, json);
        Assert.True(status == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task EveryField_HonouredOrRefusedNamingIt()
    {
        var honoured = new List<string>();
        foreach (var (path, fields, head) in new[]
        {
            ("/v1/chat/completions", ChatFields, $$"""{"model": "{{GatewayFixture.InstructModel}}", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4,"""),
            ("/v1/completions", CompletionFields, $$"""{"model": "{{GatewayFixture.BaseModel}}", "prompt": "Once upon", "max_tokens": 4,"""),
        })
        {
            foreach (var (name, value, extra) in fields)
            {
                var body = name == "max_tokens" ? head.Replace("\"max_tokens\": 4,", string.Empty, StringComparison.Ordinal) : head;
                var (status, text) = await PostAsync(path, $$"""{{body}} {{extra}} "{{name}}": {{value}}}""");
                if (status == HttpStatusCode.OK)
                {
                    honoured.Add($"{path} {name}");
                    AssertEffect(name, text);
                    continue;
                }

                Assert.True(status == HttpStatusCode.BadRequest, $"{path} {name}: {status} {text}");
                var error = JsonNode.Parse(text)!["error"]!;
                Assert.Equal("invalid_request_error", (string?)error["type"]);
                Assert.True((string?)error["code"] == "unsupported_parameter" && (string?)error["param"] == name, $"{path} {name}: {text}");
            }
        }

        Assert.Contains("/v1/chat/completions n", honoured);
        Assert.Contains("/v1/completions echo", honoured);
        Assert.Contains("/v1/chat/completions response_format", honoured);
        Assert.Contains("/v1/chat/completions tools", honoured);
        Assert.Contains("/v1/completions logit_bias", honoured);
        Assert.DoesNotContain("/v1/chat/completions functions", honoured);
        Assert.DoesNotContain("/v1/chat/completions mirostat", honoured);
        Assert.DoesNotContain("/v1/chat/completions store", honoured);
    }

    /// <summary>Where a field's effect shows in the response, it must show.</summary>
    private static void AssertEffect(string name, string text)
    {
        if (name is "stream" or "stream_options")
        {
            Assert.StartsWith("data: ", text, StringComparison.Ordinal);
            Assert.Equal(name == "stream_options", text.Contains("\"usage\":{", StringComparison.Ordinal));
            return;
        }

        var body = JsonNode.Parse(text)!;
        var choices = body["choices"]!.AsArray();
        switch (name)
        {
            case "n":
                Assert.Equal(2, choices.Count);
                break;
            case "logprobs" or "top_logprobs":
                Assert.NotNull(choices[0]!["logprobs"]);
                break;
            case "max_tokens" or "max_completion_tokens":
                Assert.InRange((int)body["usage"]!["completion_tokens"]!, 1, 3);
                break;
            case "echo":
                Assert.StartsWith("Once upon", (string?)choices[0]!["text"], StringComparison.Ordinal);
                break;
        }
    }

    [Fact]
    public async Task Completions_TwoPromptsN3_ChoicesIndexedPromptMajorAndUsageCountsEachPromptOnce()
    {
        const string Single = """{"model": "tiny-base", "prompt": ["The sky is", "Rivers run to"], "max_tokens": 6, "ignore_eos": true, "seed": 11}""";
        var one = await PostOkAsync("/v1/completions", Single);
        var body = await PostOkAsync("/v1/completions", Single.Replace("\"seed\": 11", "\"seed\": 11, \"n\": 3", StringComparison.Ordinal));
        var again = await PostOkAsync("/v1/completions", Single.Replace("\"seed\": 11", "\"seed\": 11, \"n\": 3", StringComparison.Ordinal));

        var choices = body["choices"]!.AsArray();
        Assert.Equal(6, choices.Count);
        Assert.Equal(Enumerable.Range(0, 6), choices.Select(c => (int)c!["index"]!));
        var texts = choices.Select(c => (string)c!["text"]!).ToList();
        Assert.Equal(texts, again["choices"]!.AsArray().Select(c => (string)c!["text"]!)); // seeded: reproducible
        Assert.True(texts.Take(3).Distinct().Count() > 1, "the choices of one prompt should differ");
        Assert.Equal((string?)one["choices"]![0]!["text"], texts[0]); // choice 0 keeps the request's seed
        Assert.Equal((string?)one["choices"]![1]!["text"], texts[3]);
        Assert.Equal((int)one["usage"]!["prompt_tokens"]!, (int)body["usage"]!["prompt_tokens"]!);
        Assert.Equal(36, (int)body["usage"]!["completion_tokens"]!);
        Assert.Equal((int)body["usage"]!["prompt_tokens"]! + 36, (int)body["usage"]!["total_tokens"]!);
    }

    [Fact]
    public async Task Chat_N4_PromptComputedOnceInTheScheduler()
    {
        var scheduler = gateway.Services.GetRequiredService<ModelRegistry>().All.Single(m => m.Id == GatewayFixture.InstructModel).Scheduler!;
        var content = string.Join(' ', Enumerable.Repeat("Tell me everything about prefix sharing across choices.", 12));
        var before = scheduler.Counters.CachedTokens;
        var body = await PostOkAsync("/v1/chat/completions", $$"""
            {"model": "tiny-instruct", "messages": [{"role": "user", "content": "{{content}}"}], "n": 4, "max_tokens": 2, "ignore_eos": true}
            """);

        var prompt = (int)body["usage"]!["prompt_tokens"]!;
        Assert.Equal(4, body["choices"]!.AsArray().Count);
        Assert.True(prompt > 100);

        // Three of the four sequences took all but the prompt's last token from the first one's cells.
        // Up to a 64-row attention tile may be recomputed with the last token (SuffixRecompute).
        Assert.True(scheduler.Counters.CachedTokens - before >= 3 * (prompt - 64), $"cached {scheduler.Counters.CachedTokens - before} of {prompt} x 4");
        Assert.True((int)body["usage"]!["prompt_tokens_details"]!["cached_tokens"]! < prompt);
    }

    [Fact]
    public async Task Chat_StreamN3_EachChoiceIndexedWithItsOwnFinishAndUsageOnce()
    {
        var (status, text) = await PostAsync("/v1/chat/completions", """
            {"model": "tiny-instruct", "messages": [{"role": "user", "content": "Hi"}], "n": 3, "max_tokens": 5, "ignore_eos": true,
             "stream": true, "stream_options": {"include_usage": true}}
            """);

        Assert.Equal(HttpStatusCode.OK, status);
        var chunks = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", chunks[^1]);
        var json = chunks[..^1].Select(c => JsonNode.Parse(c)!).ToList();
        var usage = Assert.Single(json, j => j["usage"] is JsonObject);
        Assert.Same(json[^1], usage);
        Assert.Equal(15, (int)usage["usage"]!["completion_tokens"]!);
        var choices = json.SelectMany(j => j["choices"]!.AsArray()).ToList();
        for (var i = 0; i < 3; i++)
        {
            var mine = choices.Where(c => (int)c!["index"]! == i).ToList();
            Assert.Equal("assistant", (string?)mine[0]!["delta"]!["role"]);
            Assert.Single(mine, c => c!["finish_reason"] is JsonValue);
            Assert.Equal("length", (string?)mine[^1]!["finish_reason"]);
        }

        Assert.Equal(3, choices.Select(c => (int)c!["index"]!).Distinct().Count());
    }

    [Fact]
    public async Task Completions_EchoStreamAndLogprobsWithN()
    {
        var echoed = await PostOkAsync("/v1/completions", """{"model": "tiny-base", "prompt": "Echo me", "max_tokens": 3, "echo": true, "n": 2}""");
        Assert.All(echoed["choices"]!.AsArray(), c => Assert.StartsWith("Echo me", (string?)c!["text"], StringComparison.Ordinal));

        var (status, stream) = await PostAsync("/v1/completions", """{"model": "tiny-base", "prompt": "Echo me", "max_tokens": 3, "echo": true, "stream": true}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Echo me", (string?)JsonNode.Parse(stream.Split("\n\n")[0]["data: ".Length..])!["choices"]![0]!["text"]);

        var logprobs = await PostOkAsync("/v1/completions", """{"model": "tiny-base", "prompt": "Count", "max_tokens": 4, "ignore_eos": true, "logprobs": 2, "n": 3}""");
        Assert.All(logprobs["choices"]!.AsArray(), c =>
        {
            Assert.Equal(4, c!["logprobs"]!["tokens"]!.AsArray().Count);
            Assert.Equal(string.Concat(c["logprobs"]!["tokens"]!.AsArray().Select(t => (string)t!)), (string?)c["text"]);
        });

        var (refused, error) = await PostAsync("/v1/completions", """{"model": "tiny-base", "prompt": "x", "echo": true, "logprobs": 1}""");
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        Assert.Equal("echo", (string?)JsonNode.Parse(error)!["error"]!["param"]);
    }
}
