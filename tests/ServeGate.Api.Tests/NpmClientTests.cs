using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ServeGate.Api.Tests;

/// <summary>
/// The Vercel AI SDK and LangChain.js, pinned in npm/package-lock.json, against the gateway on their default paths: each
/// test runs one script of npm/ with node and checks the JSON it prints (structure, not the random-weight models' text).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class NpmClientTests(GatewayFixture gateway)
{
    private static readonly string[] CityNames = ["Paris", "Oslo"];
    private static readonly string[] CitySizes = ["small", "large"];

    [Fact]
    public async Task AiSdk_GenerateText_ResponsesApiWithUsage()
    {
        var result = await RunAsync("ai-generate-text.mjs");

        AssertRequests(result, "/v1/responses");
        Assert.IsType<string>((string?)result["text"]);
        Assert.Contains((string?)result["finishReason"], new[] { "length", "stop" });
        Assert.InRange((int)result["usage"]!["outputTokens"]!, 1, 8);
        Assert.True((int)result["usage"]!["inputTokens"]! > 0);
        Assert.Empty(result["warnings"]!.AsArray());
    }

    [Fact]
    public async Task AiSdk_StreamText_SeveralDeltasAndUsage()
    {
        var result = await RunAsync("ai-stream-text.mjs");

        AssertRequests(result, "/v1/responses");
        Assert.True((int)result["deltas"]! > 1);
        Assert.Equal((int)result["usage"]!["outputTokens"]!, (int)result["deltas"]!);
        Assert.True((int)result["usage"]!["inputTokens"]! > 0);
    }

    [Fact]
    public async Task AiSdk_GenerateObjectAndOutputObject_ValidAgainstTheZodSchema()
    {
        // The script parses both objects with the zod schema (a failure prints ok: false).
        var result = await RunAsync("ai-generate-object.mjs");

        AssertRequests(result, "/v1/responses", "/v1/responses");
        Assert.All(result["requests"]!.AsArray(), r => Assert.Contains("text", r!["fields"]!.AsArray().Select(f => (string?)f)));
        Assert.Contains((string?)result["object"]!["size"], CitySizes);
        Assert.Contains((string?)result["output"]!["size"], CitySizes);
        Assert.True((int)result["objectUsage"]!["outputTokens"]! > 0);
    }

    [Fact]
    public async Task AiSdk_ForcedToolCall_RunAndItsResultSentBack()
    {
        var result = await RunAsync("ai-tools.mjs");

        AssertRequests(result, "/v1/responses", "/v1/responses");
        Assert.Equal("tool-calls", (string?)result["finishReason"]);
        var executed = Assert.Single(result["executed"]!.AsArray());
        Assert.Contains((string?)executed!["city"], CityNames);
        Assert.Equal("weather", (string?)Assert.Single(result["toolCalls"]!.AsArray())!["toolName"]);
        Assert.Equal(21, (int)Assert.Single(result["toolResults"]!.AsArray())!["output"]!["temperature"]!);
        Assert.Equal(["user", "assistant", "tool"], result["sentBack"]!.AsArray().Select(r => (string?)r));
        Assert.True((int)result["answerUsage"]!["inputTokens"]! > 0);
    }

    [Fact]
    public async Task AiSdk_EmbedAndEmbedMany_ModelDimension()
    {
        var result = await RunAsync("ai-embed.mjs");

        await AssertEmbeddingsAsync(result, "manyDimensions", "sameAsMany");
        Assert.True((int)result["manyUsage"]!["tokens"]! > 0);
    }

    [Fact]
    public async Task AiSdk_Conversation_DefaultStoreRefusedAtTheSecondTurn_StoreFalseWorks()
    {
        var result = await RunAsync("ai-conversation.mjs");

        // The SDK's default (store: true assumed) sends the first answer as an item_reference, which ServeGate cannot resolve.
        var refused = result["defaultStore"]!["secondTurn"]!;
        Assert.Equal(400, (int)refused["status"]!);
        Assert.Equal("input[1]", (string?)refused["error"]!["param"]);
        var storeFalse = result["storeFalse"]!;
        Assert.Equal(200, (int)storeFalse["secondTurn"]!["status"]!);
        Assert.True((int)storeFalse["thirdTurn"]!["deltas"]! >= 1);
        Assert.True((int)storeFalse["thirdTurn"]!["usage"]!["inputTokens"]! > 0);
    }

    [Fact]
    public async Task LangChain_Invoke_ChatCompletionsWithUsage()
    {
        var result = await RunAsync("lc-invoke.mjs");

        AssertRequests(result, "/v1/chat/completions");
        Assert.IsType<string>((string?)result["content"]);
        Assert.InRange((int)result["usage"]!["output_tokens"]!, 1, 8);
        Assert.True((int)result["usage"]!["input_tokens"]! > 0);
    }

    [Fact]
    public async Task LangChain_Stream_SeveralChunksAndUsage()
    {
        var result = await RunAsync("lc-stream.mjs");

        AssertRequests(result, "/v1/chat/completions");
        Assert.Contains("stream_options", result["requests"]![0]!["fields"]!.AsArray().Select(f => (string?)f));
        Assert.True((int)result["deltas"]! > 1);
        Assert.True((int)result["usage"]!["output_tokens"]! > 0);
    }

    [Fact]
    public async Task LangChain_WithStructuredOutput_JsonSchemaAndFunctionCalling_ValidAgainstTheZodSchema()
    {
        // The script parses both objects with the zod schema (a failure prints ok: false).
        var result = await RunAsync("lc-structured.mjs");

        AssertRequests(result, "/v1/chat/completions", "/v1/chat/completions");
        Assert.Contains("response_format", result["requests"]![0]!["fields"]!.AsArray().Select(f => (string?)f));
        Assert.Contains("tool_choice", result["requests"]![1]!["fields"]!.AsArray().Select(f => (string?)f));
        Assert.Contains((string?)result["jsonSchema"]!["size"], CitySizes);
        Assert.Contains((string?)result["functionCalling"]!["size"], CitySizes);
    }

    [Fact]
    public async Task LangChain_BindToolsForcedCall_ParsedArgumentsAndToolMessageRoundTrip()
    {
        var result = await RunAsync("lc-tools.mjs");

        AssertRequests(result, "/v1/chat/completions", "/v1/chat/completions");
        Assert.Equal("tool_calls", (string?)result["finishReason"]);
        Assert.Equal(0, (int)result["invalidToolCalls"]!);
        Assert.All(result["toolCalls"]!.AsArray(), call =>
        {
            Assert.Equal("weather", (string?)call!["name"]);
            Assert.Contains((string?)call["args"]!["city"], CityNames);
            Assert.True((bool)call["hasId"]!);
        });
        Assert.True((int)result["answerUsage"]!["input_tokens"]! > 0);
    }

    [Fact]
    public async Task LangChain_Embeddings_QueryAndDocuments_ModelDimension()
    {
        var result = await RunAsync("lc-embeddings.mjs");

        await AssertEmbeddingsAsync(result, "documentDimensions", "sameAsDocument");
    }

    /// <summary>Checks the library called these paths, in order, and each got a 200.</summary>
    private static void AssertRequests(JsonNode result, params string[] paths)
    {
        var requests = result["requests"]!.AsArray();
        Assert.Equal(paths, requests.Select(r => (string?)r!["path"]));
        Assert.All(requests, r => Assert.Equal(200, (int)r!["status"]!));
    }

    /// <summary>Checks one vector and a batch of three of the model's dimension, the first of the batch the single one.</summary>
    private async Task AssertEmbeddingsAsync(JsonNode result, string batchDimensions, string sameAsBatch)
    {
        AssertRequests(result, "/v1/embeddings", "/v1/embeddings");
        using var response = await gateway.Http.PostAsJsonAsync(new Uri("/v1/embeddings", UriKind.Relative), new { model = GatewayFixture.InstructModel, input = "x" });
        response.EnsureSuccessStatusCode();
        var dimension = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["data"]![0]!["embedding"]!.AsArray().Count;
        Assert.Equal(dimension, (int)result["dimension"]!);
        Assert.Equal([dimension, dimension, dimension], result[batchDimensions]!.AsArray().Select(d => (int)d!));
        Assert.True((bool)result[sameAsBatch]!);
    }

    /// <summary>Runs <c>node npm/SCRIPT BASEURL MODEL</c> and returns the JSON line it printed, failing with its error and stderr unless ok.</summary>
    private async Task<JsonNode> RunAsync(string script)
    {
        var start = new ProcessStartInfo("node", [script, gateway.BaseAddress.ToString(), GatewayFixture.InstructModel])
        {
            WorkingDirectory = Path.Combine(ServeGate.Tests.Common.TestEnvironment.RepositoryRoot, "tests", "ServeGate.Api.Tests", "npm"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"node {script} did not finish within 2 minutes: {await stderr}");
        }

        var line = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        Assert.True(line is not null, $"node {script} printed nothing (exit {process.ExitCode}): {await stderr}");
        var result = JsonNode.Parse(line)!;
        Assert.True((bool?)result["ok"] == true, $"node {script}: {line}\n{await stderr}");
        return result;
    }
}
