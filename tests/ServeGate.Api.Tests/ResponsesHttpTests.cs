using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ServeGate.Ledger;

namespace ServeGate.Api.Tests;

/// <summary><c>POST /v1/responses</c> on the wire: the stream's event names and order, and every refusal named as the Responses API names it.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ResponsesHttpTests(GatewayFixture gateway)
{
    private async Task<(HttpStatusCode Status, string Text, HttpResponseMessage Response)> PostAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        var response = await gateway.Http.PostAsync(new Uri("/v1/responses", UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    [Fact]
    public async Task Stream_EventsInOpenAiOrderWithRisingSequenceNumbers()
    {
        var (status, text, response) = await PostAsync($$"""{"model": "{{GatewayFixture.InstructModel}}", "input": "Hello", "max_output_tokens": 6, "temperature": 0, "stream": true}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<(string Name, JsonNode Data)>();
        string? name = null;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((name!, JsonNode.Parse(line["data: ".Length..])!));
            }
        }

        var names = events.Select(e => e.Name).ToList();
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"], names.Take(4));
        Assert.All(names.Skip(4).Take(names.Count - 8), n => Assert.Equal("response.output_text.delta", n));
        Assert.Equal(["response.output_text.done", "response.content_part.done", "response.output_item.done"], names.Skip(names.Count - 4).Take(3));
        Assert.Contains(names[^1], new[] { "response.completed", "response.incomplete" });
        Assert.All(events, e => Assert.Equal(e.Name, (string?)e.Data["type"]));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => (int)e.Data["sequence_number"]!));
        var final = events[^1].Data["response"]!;
        Assert.InRange((int)final["usage"]!["output_tokens"]!, 1, 6);
        Assert.True((int)final["usage"]!["input_tokens"]! > 0);
        var itemText = (string?)final["output"]![0]!["content"]![0]!["text"];
        Assert.Equal(string.Concat(events.Where(e => e.Name == "response.output_text.delta").Select(e => (string?)e.Data["delta"])), itemText);
        Assert.False((bool)final["store"]!);
    }

    [Fact]
    public async Task NotStreaming_MaxOutputTokensReached_IncompleteWithItsReason()
    {
        var (status, text, _) = await PostAsync($$$"""{"model": "{{{GatewayFixture.InstructModel}}}", "input": [{"role": "user", "content": [{"type": "input_text", "text": "Hello"}]}], "max_output_tokens": 1, "temperature": 0, "metadata": {"ticket": "42"}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var body = JsonNode.Parse(text)!;
        Assert.Equal("response", (string?)body["object"]);
        Assert.Equal(1, (int)body["max_output_tokens"]!);
        Assert.Equal("42", (string?)body["metadata"]!["ticket"]);
        if ((string?)body["status"] == "incomplete")
        {
            Assert.Equal("max_output_tokens", (string?)body["incomplete_details"]!["reason"]);
            Assert.Equal("incomplete", (string?)body["output"]![0]!["status"]);
        }
        else
        {
            Assert.Equal("completed", (string?)body["status"]); // the one token was an end of generation
        }
    }

    [Theory]
    [InlineData("\"store\": true", "store", "unsupported_parameter")]
    [InlineData("\"previous_response_id\": \"resp_1\"", "previous_response_id", "unsupported_parameter")]
    [InlineData("\"background\": true", "background", "unsupported_parameter")]
    [InlineData("\"reasoning\": {\"effort\": \"high\"}", "reasoning", "unsupported_parameter")]
    [InlineData("\"truncation\": \"auto\"", "truncation", "unsupported_parameter")]
    [InlineData("\"include\": [\"message.output_text.logprobs\"]", "include", "unsupported_parameter")]
    [InlineData("\"top_logprobs\": 2", "top_logprobs", "unsupported_parameter")]
    [InlineData("\"seed\": 7", "seed", "unknown_parameter")]
    [InlineData("\"tools\": [{\"type\": \"web_search\"}]", "tools[0].type", "unsupported_parameter")]
    [InlineData("\"tool_choice\": {\"type\": \"file_search\"}", "tool_choice", "unsupported_parameter")]
    [InlineData("\"text\": {\"format\": {\"type\": \"xml\"}}", "text.format.type", null)]
    [InlineData("\"max_output_tokens\": 0", "max_output_tokens", null)]
    [InlineData("\"temperature\": 3", "temperature", null)]
    [InlineData("\"text\": {\"format\": {\"type\": \"json_schema\", \"name\": \"x\", \"schema\": {\"type\": \"string\", \"pattern\": \"^a\"}}}", "text.format.schema.pattern", null)]
    public async Task Refused_400NamingTheResponsesField(string field, string param, string? code)
    {
        var (status, text, _) = await PostAsync($$$"""{"model": "{{{GatewayFixture.InstructModel}}}", "input": "Hi", {{{field}}}}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
        if (code is not null)
        {
            Assert.Equal(code, (string?)error["code"]);
        }
    }

    [Theory]
    [InlineData("[{\"role\": \"robot\", \"content\": \"x\"}]", "input[0].role")]
    [InlineData("[{\"role\": \"user\", \"content\": [{\"type\": \"input_image\", \"image_url\": \"x\"}]}]", "input[0].content[0]")]
    [InlineData("[{\"type\": \"item_reference\", \"id\": \"msg_1\"}]", "input[0]")]
    [InlineData("[]", "input")]
    public async Task BadInput_400NamingTheItem(string input, string param)
    {
        var (status, text, _) = await PostAsync($$$"""{"model": "{{{GatewayFixture.InstructModel}}}", "input": {{{input}}}}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(param, (string?)JsonNode.Parse(text)!["error"]!["param"]);
    }

    [Fact]
    public async Task ItemReference_400TellsTheClientToSendStoreFalse()
    {
        // What the Vercel AI SDK sends for its earlier answer on a conversation's second turn (it assumes store: true).
        var (status, text, _) = await PostAsync($$"""{"model": "{{GatewayFixture.InstructModel}}", "input": [{"role": "user", "content": "Hi"}, {"type": "item_reference", "id": "msg_1"}, {"role": "user", "content": "And?"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.Equal("input[1]", (string?)error["param"]);
        Assert.Equal("unsupported_parameter", (string?)error["code"]);
        Assert.Contains("store: false", (string?)error["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metered_OneLedgerRecordWithTheResponseUsage()
    {
        var (status, text, response) = await PostAsync($$"""{"model": "{{GatewayFixture.InstructModel}}", "input": "Meter me", "max_output_tokens": 5, "temperature": 0, "stream": true}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var id = response.Headers.GetValues("x-request-id").Single();
        var usage = JsonNode.Parse(text.Split('\n').Last(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..])!["response"]!["usage"]!;

        var store = gateway.Services.GetRequiredService<IUsageStore>();
        UsageRecord? record = null;
        for (var i = 0; i < 100 && record is null; i++)
        {
            record = (await store.QueryAsync(new UsageQuery { Limit = 1000 }, CancellationToken.None)).SingleOrDefault(r => r.RequestId == id);
            await Task.Delay(50);
        }

        Assert.NotNull(record);
        Assert.Equal("/v1/responses", record.Endpoint);
        Assert.Equal(UsageOutcome.Completed, record.Outcome);
        Assert.False(record.Estimated);
        Assert.Equal((int)usage["input_tokens"]!, record.PromptTokens);
        Assert.Equal((int)usage["input_tokens_details"]!["cached_tokens"]!, record.CachedTokens);
        Assert.Equal((int)usage["output_tokens"]!, record.CompletionTokens);
        Assert.True(record.ComputeSeconds > 0);
    }

    [Fact]
    public async Task BaseModel_RefusedAsChatIsWithTheModelNamed()
    {
        var (status, text, _) = await PostAsync($$"""{"model": "{{GatewayFixture.BaseModel}}", "input": "Hi"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("model", (string?)JsonNode.Parse(text)!["error"]!["param"]);
    }
}
