using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Microsoft.Extensions.DependencyInjection;
using ServeGate.LlamaCpp.Native;
using ServeGate.Worker.Models;
using Xunit.Abstractions;

namespace ServeGate.Api.Tests;

/// <summary>
/// response_format, the grammar extension and logit_bias over HTTP. The constraint is applied while sampling, so even
/// the random-weight test model must produce JSON that an independent validator (JsonSchema.Net) accepts.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class StructuredOutputTests(GatewayFixture gateway, ITestOutputHelper output)
{
    /// <summary>Ten schemas covering every supported keyword; strings are mostly bounded so random weights finish.</summary>
    private static readonly string[] Schemas =
    [
        """{"type":"object","properties":{"name":{"type":"string","maxLength":8},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}""",
        """{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","maxLength":4},"minItems":1,"maxItems":3},"ok":{"type":"boolean"}},"required":["tags"]}""",
        """{"type":"object","properties":{"colour":{"enum":["red","green","blue"]},"kind":{"const":"paint"},"price":{"type":"number"}},"required":["colour","kind","price"]}""",
        """{"type":"object","properties":{"a":{"type":["integer","null"]},"b":{"type":"boolean"},"c":{"type":"null"}}}""",
        """{"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":4}""",
        """{"$defs":{"point":{"type":"object","properties":{"x":{"type":"integer"},"y":{"type":"integer"}},"required":["x","y"],"additionalProperties":false}},"type":"object","properties":{"from":{"$ref":"#/$defs/point"},"to":{"$ref":"#/$defs/point"}},"required":["from","to"]}""",
        """{"type":"object","properties":{"value":{"anyOf":[{"type":"integer"},{"type":"string","minLength":1,"maxLength":5}]},"flag":{"oneOf":[{"type":"boolean"},{"type":"null"}]}},"required":["value","flag"]}""",
        """{"type":"object","properties":{"id":{"type":"string","minLength":3,"maxLength":6},"scores":{"type":"array","items":{"type":"number"},"maxItems":2}},"required":["id","scores"],"additionalProperties":false}""",
        """{"type":"object","properties":{"inner":{"type":"object","properties":{"deep":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}},"required":["deep"]},"label":{"type":"string","maxLength":3}},"required":["inner"]}""",
        """{"type":"object","properties":{"note":{"type":"string"}},"required":["note"]}""",
    ];

    private async Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(string path, object body)
    {
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await gateway.Http.PostAsync(new Uri(path, UriKind.Relative), content);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task JsonSchema_200RandomAnswers_AllValidateUnlessCutByLength()
    {
        const int perSchema = 20;
        using var gate = new SemaphoreSlim(8);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var tasks = Schemas.SelectMany((schema, s) => Enumerable.Range(0, perSchema).Select(async seed =>
        {
            await gate.WaitAsync();
            try
            {
                var (status, body) = await PostAsync("/v1/chat/completions", new
                {
                    model = GatewayFixture.InstructModel,
                    messages = new[] { new { role = "user", content = "Answer in JSON." } },
                    temperature = 1.0,
                    seed = 1000 * s + seed,
                    max_tokens = 160,
                    response_format = new { type = "json_schema", json_schema = new { name = $"s{s}", strict = true, schema = JsonNode.Parse(schema) } },
                });
                Assert.Equal(HttpStatusCode.OK, status);
                var choice = body["choices"]![0]!;
                return (Schema: s, Text: (string)choice["message"]!["content"]!, Finish: (string)choice["finish_reason"]!);
            }
            finally
            {
                gate.Release();
            }
        })).ToList();
        var answers = await Task.WhenAll(tasks);

        var cut = 0;
        foreach (var (s, text, finish) in answers)
        {
            if (finish == "length")
            {
                cut++;
                continue;
            }

            Assert.Equal("stop", finish);
            using var document = JsonDocument.Parse(text);
            var result = JsonSchema.FromText(Schemas[s]).Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"schema {s}: {text}");
        }

        output.WriteLine($"{answers.Length} answers in {started.Elapsed.TotalSeconds:F1} s; {cut} cut by max_tokens (finish_reason length), the rest valid.");
        Assert.True(cut <= answers.Length / 5, $"{cut} of {answers.Length} answers were cut by max_tokens");
    }

    [Fact]
    public async Task JsonObject_AnySeed_AlwaysAnObject()
    {
        // About one random-weight answer in five closes its object within 100 tokens (5 of 24 seeds): eight seeds, so
        // the check of a complete answer runs (each seed's answer is the same whatever is batched beside it).
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(seed => PostAsync("/v1/chat/completions", new
        {
            model = GatewayFixture.InstructModel,
            messages = new[] { new { role = "user", content = "Give me JSON." } },
            temperature = 1.0,
            seed,
            max_tokens = 100,
            response_format = new { type = "json_object" },
        })));

        var complete = 0;
        foreach (var (status, body) in answers)
        {
            Assert.Equal(HttpStatusCode.OK, status);
            var choice = body["choices"]![0]!;
            var text = (string)choice["message"]!["content"]!;
            Assert.StartsWith("{", text, StringComparison.Ordinal);
            if ((string?)choice["finish_reason"] == "stop")
            {
                complete++;
                Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(text).RootElement.ValueKind);
            }
        }

        Assert.True(complete > 0);
    }

    [Fact]
    public async Task Grammar_OnCompletions_OutputMatchesAndStopsWhenComplete()
    {
        var (status, body) = await PostAsync("/v1/completions", new
        {
            model = GatewayFixture.BaseModel,
            prompt = "Answer:",
            max_tokens = 50,
            temperature = 1.0,
            seed = 7,
            grammar = "root ::= (\"yes\" | \"no\") \"!\"",
        });

        Assert.Equal(HttpStatusCode.OK, status);
        var choice = body["choices"]![0]!;
        Assert.Contains((string)choice["text"]!, new[] { "yes!", "no!" });
        Assert.Equal("stop", (string?)choice["finish_reason"]);
    }

    [Fact]
    public async Task JsonSchema_IgnoreEos_StillStopsWhenTheGrammarIsComplete()
    {
        var (status, body) = await PostAsync("/v1/completions", new
        {
            model = GatewayFixture.BaseModel,
            prompt = "Answer:",
            max_tokens = 100,
            temperature = 1.0,
            ignore_eos = true,
            response_format = new { type = "json_schema", json_schema = new { name = "b", schema = new { type = "boolean" } } },
        });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains((string)body["choices"]![0]!["text"]!, new[] { "true", "false" });
        Assert.Equal("stop", (string?)body["choices"]![0]!["finish_reason"]);
    }

    /// <summary>The ids of every token whose text is <paramref name="text"/> (a ban must cover all spellings).</summary>
    private List<int> TokensSpelled(string text)
    {
        var model = gateway.Services.GetRequiredService<ModelRegistry>().All.Single(m => m.Id == GatewayFixture.BaseModel).Model!;
        // A completion's first token loses its leading space (SentencePiece): compare without it.
        return [.. Enumerable.Range(0, model.VocabSize).Where(id => model.Detokenize([new LlamaToken(id)]).Trim() == text.Trim())];
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    public async Task LogitBias_Minus100_BansTheGreedyToken(double presencePenalty)
    {
        // A presence penalty moves sampling to llama.cpp's chain; without it the vector path samples.
        object Request(Dictionary<string, int>? bias) => new
        {
            model = GatewayFixture.BaseModel,
            prompt = "The capital of France is",
            max_tokens = 1,
            temperature = 0,
            presence_penalty = presencePenalty,
            logit_bias = bias,
        };
        var greedy = (string)(await PostAsync("/v1/completions", Request(null))).Body["choices"]![0]!["text"]!;
        Assert.NotEmpty(greedy.Trim());
        var ids = TokensSpelled(greedy);
        Assert.NotEmpty(ids);

        var (status, body) = await PostAsync("/v1/completions", Request(ids.ToDictionary(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture), _ => -100)));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotEqual(greedy.Trim(), ((string)body["choices"]![0]!["text"]!).Trim());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    public async Task LogitBias_Plus100_ForcesTheToken(double presencePenalty)
    {
        const int forced = 1000;

        var (status, body) = await PostAsync("/v1/completions", new
        {
            model = GatewayFixture.BaseModel,
            prompt = "Once upon a time",
            max_tokens = 6,
            temperature = 1.0,
            presence_penalty = presencePenalty,
            ignore_eos = true,
            logit_bias = new Dictionary<string, int> { ["1000"] = 100 },
        });

        Assert.Equal(HttpStatusCode.OK, status);
        var model = gateway.Services.GetRequiredService<ModelRegistry>().All.Single(m => m.Id == GatewayFixture.BaseModel).Model!;
        var piece = model.Detokenize([new LlamaToken(forced)]);
        Assert.Equal(string.Concat(Enumerable.Repeat(piece, 6)).Trim(), ((string)body["choices"]![0]!["text"]!).Trim());
    }

    [Theory]
    [InlineData("""{"response_format":{"type":"xml"}}""", "response_format.type")]
    [InlineData("""{"response_format":{"type":"json_schema"}}""", "response_format.json_schema")]
    [InlineData("""{"response_format":{"type":"json_schema","json_schema":{"name":"a b","schema":{}}}}""", "response_format.json_schema.name")]
    [InlineData("""{"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"age":{"type":"integer","minimum":18}}}}}}""", "response_format.json_schema.schema.properties.age.minimum")]
    [InlineData("""{"grammar":"root ::= ("}""", "grammar")]
    [InlineData("""{"logit_bias":{"abc":1}}""", "logit_bias")]
    [InlineData("""{"logit_bias":{"99999999":1}}""", "logit_bias")]
    [InlineData("""{"logit_bias":{"5":101}}""", "logit_bias")]
    [InlineData("""{"logit_bias":[1]}""", "logit_bias")]
    public async Task BadConstraint_400WithParam(string extra, string param)
    {
        var body = JsonNode.Parse(extra)!.AsObject();
        body["model"] = GatewayFixture.InstructModel;
        body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" });
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");

        using var response = await gateway.Http.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), content);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
    }
}
