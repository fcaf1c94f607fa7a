using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServeGate.Api.Tests;

/// <summary>
/// The legacy completions endpoint (the OpenAI .NET client 2.x no longer has it) and the wire format itself:
/// exact JSON shapes, SSE framing, and every error envelope.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class CompletionsHttpTests(GatewayFixture gateway)
{
    private async Task<(HttpStatusCode Status, JsonNode Body, HttpResponseMessage Response)> PostAsync(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await gateway.Http.PostAsync(new Uri(path, UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!, response);
    }

    private static string Completion(object body) => JsonSerializer.Serialize(body);

    private static async Task<List<string>> ReadSseAsync(HttpResponseMessage response)
    {
        var events = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(line["data: ".Length..]);
            }
            else
            {
                Assert.Equal(string.Empty, line);
            }
        }

        return events;
    }

    [Fact]
    public async Task Models_ListsKindContextAndQuantization()
    {
        var body = JsonNode.Parse(await gateway.Http.GetStringAsync(new Uri("/v1/models", UriKind.Relative)))!;

        Assert.Equal("list", (string?)body["object"]);
        var models = body["data"]!.AsArray();
        var tiny = models.Single(m => (string?)m!["id"] == GatewayFixture.BaseModel)!;
        var instruct = models.Single(m => (string?)m!["id"] == GatewayFixture.InstructModel)!;
        Assert.Equal("model", (string?)tiny["object"]);
        Assert.Equal("base", (string?)tiny["kind"]);
        Assert.Equal("instruct", (string?)instruct["kind"]);
        Assert.Equal(512, (int)tiny["context_length"]!);
        Assert.False(string.IsNullOrEmpty((string?)tiny["quantization"]));
        Assert.True((long)tiny["created"]! > 1_600_000_000);
    }

    [Fact]
    public async Task Completions_String_ReturnsOpenAiShape()
    {
        var (status, body, _) = await PostAsync("/v1/completions", Completion(new { model = GatewayFixture.BaseModel, prompt = "The capital of France is", max_tokens = 8, temperature = 0 }));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("cmpl-", (string?)body["id"], StringComparison.Ordinal);
        Assert.Equal("text_completion", (string?)body["object"]);
        Assert.Equal(GatewayFixture.BaseModel, (string?)body["model"]);
        var choice = body["choices"]![0]!;
        Assert.Equal(0, (int)choice["index"]!);
        Assert.NotNull((string?)choice["text"]);
        Assert.Contains((string?)choice["finish_reason"], new[] { "stop", "length" });
        var usage = body["usage"]!;
        Assert.True((int)usage["prompt_tokens"]! >= 6);
        Assert.InRange((int)usage["completion_tokens"]!, 1, 8);
        Assert.Equal((int)usage["prompt_tokens"]! + (int)usage["completion_tokens"]!, (int)usage["total_tokens"]!);
        Assert.NotNull(usage["prompt_tokens_details"]!["cached_tokens"]);
    }

    [Fact]
    public async Task Completions_IgnoreEos_GeneratesExactlyMaxTokens()
    {
        var (status, body, _) = await PostAsync("/v1/completions", Completion(new { model = GatewayFixture.BaseModel, prompt = "Once upon a time", max_tokens = 40, ignore_eos = true }));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(40, (int)body["usage"]!["completion_tokens"]!);
        Assert.Equal("length", (string?)body["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task Completions_PromptArray_OneChoicePerPrompt()
    {
        var (status, body, _) = await PostAsync("/v1/completions", Completion(new { model = GatewayFixture.BaseModel, prompt = new[] { "First prompt", "Second prompt" }, max_tokens = 4, temperature = 0 }));

        Assert.Equal(HttpStatusCode.OK, status);
        var choices = body["choices"]!.AsArray();
        Assert.Equal([0, 1], choices.Select(c => (int)c!["index"]!));
    }

    [Fact]
    public async Task Completions_PromptArrayStreamed_InterleavedChoicesEachFinishedThenOneUsage()
    {
        var request = new { model = GatewayFixture.BaseModel, prompt = new[] { "First prompt", "Second prompt" }, max_tokens = 4, temperature = 0, ignore_eos = true, stream = true, stream_options = new { include_usage = true } };
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = JsonContent.Create(request) };
        using var response = await gateway.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);

        var events = await ReadSseAsync(response);

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.Equal(8, (int)chunks[^1]["usage"]!["completion_tokens"]!);
        var choices = chunks[..^1].Select(c => c["choices"]![0]!).ToList();
        foreach (var index in new[] { 0, 1 })
        {
            var mine = choices.Where(c => (int)c["index"]! == index).ToList();
            Assert.Equal("length", (string?)mine[^1]["finish_reason"]);
            Assert.Single(mine, c => c["finish_reason"] is not null);
        }
    }

    [Fact]
    public async Task Completions_TokenIdPrompt_UsedAsIsAndValidated()
    {
        var (status, body, _) = await PostAsync("/v1/completions", Completion(new { model = GatewayFixture.BaseModel, prompt = new[] { 1, 450, 7483, 310 }, max_tokens = 2 }));
        var (invalidStatus, invalid, _) = await PostAsync("/v1/completions", Completion(new { model = GatewayFixture.BaseModel, prompt = new[] { 1, 99999999 }, max_tokens = 2 }));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(4, (int)body["usage"]!["prompt_tokens"]!);
        Assert.Equal(HttpStatusCode.BadRequest, invalidStatus);
        Assert.Equal("prompt", (string?)invalid["error"]!["param"]);
    }

    [Fact]
    public async Task Completions_Stream_SseChunksThenUsageThenDone()
    {
        var request = new { model = GatewayFixture.BaseModel, prompt = "Streaming test", max_tokens = 10, temperature = 0, stream = true, stream_options = new { include_usage = true } };
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = JsonContent.Create(request) };
        using var response = await gateway.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var events = await ReadSseAsync(response);

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        var usageChunk = chunks[^1];
        Assert.Empty(usageChunk["choices"]!.AsArray());
        Assert.InRange((int)usageChunk["usage"]!["completion_tokens"]!, 1, 10);
        var textChunks = chunks[..^1];
        Assert.All(textChunks, c => Assert.Equal("text_completion", (string?)c["object"]));
        Assert.NotNull(textChunks[^1]["choices"]![0]!["finish_reason"]);
        var streamed = string.Concat(textChunks.Select(c => (string?)c["choices"]![0]!["text"]));

        var (_, whole, _) = await PostAsync("/v1/completions", Completion(new { model = GatewayFixture.BaseModel, prompt = "Streaming test", max_tokens = 10, temperature = 0 }));
        Assert.Equal((string?)whole["choices"]![0]!["text"], streamed);
    }

    [Fact]
    public async Task Completions_StreamWithoutIncludeUsage_NoUsageChunk()
    {
        var request = new { model = GatewayFixture.BaseModel, prompt = "x", max_tokens = 3, stream = true };
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = JsonContent.Create(request) };
        using var response = await gateway.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);

        var events = await ReadSseAsync(response);

        Assert.Equal("[DONE]", events[^1]);
        Assert.All(events[..^1], e => Assert.NotEmpty(JsonNode.Parse(e)!["choices"]!.AsArray()));
    }

    [Fact]
    public async Task Completions_UnknownFields_RefusedNamingThem()
    {
        var (status, body, _) = await PostAsync("/v1/completions", """{"model": "tiny-base", "prompt": "hi", "max_tokens": 2, "some_future_field": {"x": 1}, "user": "u-1"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("some_future_field", (string?)body["error"]!["param"]);
        Assert.Equal("unsupported_parameter", (string?)body["error"]!["code"]);
    }

    [Theory]
    [InlineData("{not json", "invalid_request_error", null)]
    [InlineData("""{"model": "tiny-base", "prompt": "x", "max_tokens": "ten"}""", "invalid_request_error", "max_tokens")]
    [InlineData("""{"prompt": "x"}""", "invalid_request_error", "model")]
    [InlineData("""{"model": "tiny-base"}""", "invalid_request_error", "prompt")]
    [InlineData("""{"model": "tiny-base", "prompt": "x", "n": 17}""", "invalid_request_error", "n")]
    [InlineData("""{"model": "tiny-base", "prompt": "x", "temperature": 3}""", "invalid_request_error", "temperature")]
    [InlineData("""{"model": "tiny-base", "prompt": "x", "top_p": 0}""", "invalid_request_error", "top_p")]
    [InlineData("""{"model": "tiny-base", "prompt": "x", "max_tokens": 0}""", "invalid_request_error", "max_tokens")]
    [InlineData("""{"model": "tiny-base", "prompt": "x", "stop": ["a", "b", "c", "d", "e"]}""", "invalid_request_error", "stop")]
    [InlineData("""{"model": "tiny-base", "prompt": "x", "logprobs": 9}""", "invalid_request_error", "logprobs")]
    [InlineData("""{"model": "tiny-base", "prompt": "x", "echo": true, "logprobs": 1}""", "invalid_request_error", "echo")]
    [InlineData("""{"model": "tiny-base", "prompt": [], "max_tokens": 2}""", "invalid_request_error", "prompt")]
    [InlineData("""{"model": "tiny-base", "prompt": "x", "stream_options": {"include_usage": true}}""", "invalid_request_error", "stream_options")]
    [InlineData("[1, 2]", "invalid_request_error", null)]
    public async Task Completions_BadInput_400WithEnvelope(string json, string type, string? param)
    {
        var (status, body, _) = await PostAsync("/v1/completions", json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = body["error"]!;
        Assert.Equal(type, (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        Assert.True(error.AsObject().ContainsKey("code"));
    }

    [Fact]
    public async Task Completions_UnknownModel_404()
    {
        var (status, body, _) = await PostAsync("/v1/completions", Completion(new { model = "gpt-17", prompt = "x" }));

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("model_not_found", (string?)body["error"]!["code"]);
    }

    [Fact]
    public async Task Completions_PromptPlusMaxTokensTooLong_ContextLengthExceeded()
    {
        var (status, body, _) = await PostAsync("/v1/completions", Completion(new { model = GatewayFixture.BaseModel, prompt = "word ", max_tokens = 600 }));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("context_length_exceeded", (string?)body["error"]!["code"]);
        Assert.Contains("512", (string?)body["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completions_OversizedBody_413()
    {
        var prompt = new string('a', 100_000);

        var (status, body, _) = await PostAsync("/v1/completions", Completion(new { model = GatewayFixture.BaseModel, prompt }));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("invalid_request_error", (string?)body["error"]!["type"]);
    }

    [Fact]
    public async Task BadInput_ServerStaysUp()
    {
        for (var i = 0; i < 5; i++)
        {
            await PostAsync("/v1/completions", "{\"model\": ");
        }

        using var health = await gateway.Http.GetAsync(new Uri("/health", UriKind.Relative));
        using var ready = await gateway.Http.GetAsync(new Uri("/ready", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Chat_MaxCompletionTokens_Honoured()
    {
        var (status, body, _) = await PostAsync("/v1/chat/completions", Completion(new
        {
            model = GatewayFixture.InstructModel,
            messages = new[] { new { role = "user", content = "hi" } },
            max_completion_tokens = 3,
            ignore_eos = true,
        }));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, (int)body["usage"]!["completion_tokens"]!);
        Assert.Equal("chat.completion", (string?)body["object"]);
        Assert.Equal("assistant", (string?)body["choices"]![0]!["message"]!["role"]);
    }

    [Fact]
    public async Task Chat_ContentParts_AcceptedAndBadRole400()
    {
        var (ok, _, _) = await PostAsync("/v1/chat/completions", """{"model": "tiny-instruct", "max_tokens": 2, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}""");
        var (bad, body, _) = await PostAsync("/v1/chat/completions", """{"model": "tiny-instruct", "messages": [{"role": "wizard", "content": "hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Equal("messages[0].role", (string?)body["error"]!["param"]);
    }
}
