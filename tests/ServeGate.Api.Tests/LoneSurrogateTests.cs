using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ServeGate.Api.Tests;

/// <summary>
/// A string holding an escaped lone surrogate is valid JSON but not a string: every endpoint answers it with a 400
/// naming the field, never a 500 (it reached the gateway's request reader and the worker's validator as an exception).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class LoneSurrogateTests(GatewayFixture gateway)
{
    [Theory]
    [InlineData("/v1/completions", """{"model":"tiny-base","prompt":"\ud800","max_tokens":1}""", "prompt")]
    [InlineData("/v1/completions", """{"model":"\ud800","prompt":"a","max_tokens":1}""", "model")]
    [InlineData("/v1/completions", """{"model":"tiny-base","prompt":"a","stop":"\udc00","max_tokens":1}""", "stop")]
    [InlineData("/v1/completions", """{"model":"tiny-base","prompt":["ok","\ud800x"],"max_tokens":1,"stream":true}""", "prompt")]
    [InlineData("/v1/chat/completions", """{"model":"tiny-instruct","messages":[{"role":"user","content":"\ud800"}],"max_tokens":1}""", "messages")]
    [InlineData("/v1/embeddings", """{"model":"tiny-base","input":["\udfff"]}""", "input")]
    [InlineData("/v1/responses", """{"model":"tiny-instruct","input":"\ud800","max_output_tokens":16}""", "input")]
    public async Task LoneSurrogate_AnyEndpoint_400NamingTheField(string path, string json, string param)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await gateway.Http.PostAsync(new Uri(path, UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
    }
}
