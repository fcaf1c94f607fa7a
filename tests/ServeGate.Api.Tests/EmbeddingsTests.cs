using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI.Embeddings;

namespace ServeGate.Api.Tests;

/// <summary><c>POST /v1/embeddings</c> through the official OpenAI .NET client (which asks for base64) and raw HTTP (float).</summary>
[Collection(GatewayCollection.Name)]
public sealed class EmbeddingsTests(GatewayFixture gateway)
{
    private EmbeddingClient Client => gateway.OpenAi.GetEmbeddingClient(GatewayFixture.BaseModel);

    private async Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await gateway.Http.PostAsync(new Uri("/v1/embeddings", UriKind.Relative), content);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task OpenAiClient_Batch_IndexedUnitVectorsWithUsage()
    {
        OpenAIEmbeddingCollection result = await Client.GenerateEmbeddingsAsync(["The cat sat.", "A much longer sentence about dogs and parks.", "The cat sat."]);

        Assert.Equal(3, result.Count);
        Assert.Equal([0, 1, 2], result.Select(e => e.Index));
        var vectors = result.Select(e => e.ToFloats().ToArray()).ToList();
        Assert.All(vectors, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4));
        AssertClose(vectors[0], vectors[2]); // same input, same vector (up to the batch's summation order)
        Assert.NotEqual(vectors[0], vectors[1]);
        Assert.True(result.Usage.InputTokenCount > 10);
        Assert.Equal(result.Usage.InputTokenCount, result.Usage.TotalTokenCount);
        Assert.Equal(GatewayFixture.BaseModel, result.Model);
    }

    [Fact]
    public async Task Base64AndFloat_SameVector()
    {
        OpenAIEmbedding viaClient = await Client.GenerateEmbeddingAsync("Round trip me.");
        var (status, body) = await PostAsync("""{"model": "tiny-base", "input": "Round trip me.", "encoding_format": "float"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("list", (string?)body["object"]);
        var item = body["data"]![0]!;
        Assert.Equal("embedding", (string?)item["object"]);
        Assert.Equal(0, (int)item["index"]!);
        var floats = Floats(item);
        Assert.Equal(floats, viaClient.ToFloats().ToArray());
        Assert.Equal((int)body["usage"]!["prompt_tokens"]!, (int)body["usage"]!["total_tokens"]!);
        Assert.True((double)body["usage"]!["servegate"]!["compute_seconds"]! > 0);
    }

    [Fact]
    public async Task TokenArrays_Accepted()
    {
        var (status, body) = await PostAsync("""{"model": "tiny-base", "input": [[1, 200, 300], [1, 400]], "user": "u"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body["data"]!.AsArray().Count);
        Assert.Equal(5, (int)body["usage"]!["prompt_tokens"]!);
        var (single, one) = await PostAsync("""{"model": "tiny-base", "input": [1, 200, 300]}""");
        Assert.Equal(HttpStatusCode.OK, single);
        AssertClose(Floats(body["data"]![0]!), Floats(one["data"]![0]!)); // alone or in a batch
    }

    private static float[] Floats(JsonNode item) => [.. item["embedding"]!.AsArray().Select(x => (float)x!)];

    /// <summary>llama.cpp sums in another order when other inputs share the step: equal within 1e-4, not bit for bit.</summary>
    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.All(Enumerable.Range(0, expected.Length), i => Assert.Equal(expected[i], actual[i], 1e-4f));
    }

    [Fact]
    public async Task Dimensions_RefusedThroughTheClient()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Client.GenerateEmbeddingAsync("x", new EmbeddingGenerationOptions { Dimensions = 8 }));

        Assert.Equal(400, ex.Status);
        Assert.Contains("dimensions", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model": "tiny-base", "input": ""}""", "input", null)]
    [InlineData("""{"model": "tiny-base", "input": []}""", "input", null)]
    [InlineData("""{"model": "tiny-base", "input": ["a", ""]}""", "input[1]", null)]
    [InlineData("""{"model": "tiny-base"}""", "input", "missing_required_parameter")]
    [InlineData("""{"model": "tiny-base", "input": "x", "encoding_format": "int8"}""", "encoding_format", null)]
    [InlineData("""{"model": "tiny-base", "input": "x", "dimensions": 8}""", "dimensions", "unsupported_parameter")]
    [InlineData("""{"model": "tiny-base", "input": "x", "normalize": false}""", "normalize", "unsupported_parameter")]
    [InlineData("""{"model": "tiny-base", "input": [[1, 99999999]]}""", "input[0]", null)]
    [InlineData("""{"input": "x"}""", "model", "missing_required_parameter")]
    public async Task BadRequest_ErrorEnvelopeNamesTheParam(string json, string param, string? code)
    {
        var (status, body) = await PostAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request_error", (string?)body["error"]!["type"]);
        Assert.Equal(param, (string?)body["error"]!["param"]);
        Assert.Equal(code, (string?)body["error"]!["code"]);
    }

    [Fact]
    public async Task TooManyOrTooLong_Refused()
    {
        var many = "[" + string.Join(',', Enumerable.Repeat("\"a\"", 2049)) + "]";
        var (status, body) = await PostAsync($$"""{"model": "tiny-base", "input": {{many}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("input", (string?)body["error"]!["param"]);

        var tokens = "[" + string.Join(',', Enumerable.Repeat("200", 600)) + "]";
        (status, body) = await PostAsync($$"""{"model": "tiny-base", "input": {{tokens}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("context_length_exceeded", (string?)body["error"]!["code"]);
    }
}
