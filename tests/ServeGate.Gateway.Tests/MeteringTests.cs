using System.Net;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Tests;

/// <summary>Exactly one usage record per request, streaming or not, completed or abandoned, in the SQLite ledger.</summary>
[Collection(SharedGatewayCollection.Name)]
public sealed class MeteringTests(SharedGateway shared)
{
    private GatewayHost Gateway => shared.Host;

    private static object Completion(bool stream, bool? includeUsage = null, int maxTokens = 8, bool ignoreEos = false) => includeUsage is null
        ? new { model = GatewayHost.BaseModel, prompt = "The capital of France is", max_tokens = maxTokens, temperature = 0, stream, ignore_eos = ignoreEos }
        : new { model = GatewayHost.BaseModel, prompt = "The capital of France is", max_tokens = maxTokens, temperature = 0, stream, ignore_eos = ignoreEos, stream_options = new { include_usage = includeUsage.Value } };

    private static string RequestId(HttpResponseMessage response) => response.Headers.GetValues("x-request-id").Single();

    private Task<UsageRecord> RecordOfAsync(string requestId) => Gateway.RecordOfAsync(requestId);

    [Fact]
    public async Task Completion_NonStreaming_RecordsExactUsageAndCost()
    {
        using var response = await Gateway.PostAsync("/v1/completions", Completion(stream: false));
        var body = GatewayHost.Parse(await response.Content.ReadAsStringAsync())!;

        var record = await RecordOfAsync(RequestId(response));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((int)body["usage"]!["prompt_tokens"]!, record.PromptTokens);
        Assert.Equal((int)body["usage"]!["completion_tokens"]!, record.CompletionTokens);
        Assert.Equal((int)body["usage"]!["prompt_tokens_details"]!["cached_tokens"]!, record.CachedTokens);
        Assert.Equal((double)body["usage"]!["servegate"]!["compute_seconds"]!, record.ComputeSeconds, 6);
        Assert.False(record.Estimated);
        Assert.Equal(UsageOutcome.Completed, record.Outcome);
        Assert.Equal(200, record.HttpStatus);
        Assert.Equal(GatewayHost.BaseModel, record.Model);
        Assert.Equal("local", record.Worker);
        Assert.Equal("local", record.KeyId);
        Assert.Equal("/v1/completions", record.Endpoint);
        Assert.NotNull(record.FinishReason);
        Assert.True(record.ComputeSeconds > 0);
        var expectedCost = ((record.PromptTokens - record.CachedTokens) * 1m + record.CachedTokens * 0.5m + record.CompletionTokens * 2m) / 1_000_000m;
        Assert.Equal(expectedCost, record.CostUsd);
    }

    [Fact]
    public async Task Embeddings_RecordsInputTokensComputeAndCost()
    {
        using var response = await Gateway.PostAsync("/v1/embeddings", new { model = GatewayHost.BaseModel, input = new[] { "first input", "the second input" } });
        var body = GatewayHost.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await RecordOfAsync(RequestId(response));
        Assert.Equal((int)body["usage"]!["prompt_tokens"]!, record.PromptTokens);
        Assert.Equal(0, record.CompletionTokens);
        Assert.Equal((double)body["usage"]!["servegate"]!["compute_seconds"]!, record.ComputeSeconds, 6);
        Assert.True(record.ComputeSeconds > 0);
        Assert.False(record.Estimated);
        Assert.Equal("/v1/embeddings", record.Endpoint);
        Assert.Equal(UsageOutcome.Completed, record.Outcome);
        Assert.Equal(record.PromptTokens * 1m / 1_000_000m, record.CostUsd);
    }

    [Fact]
    public async Task Stream_ClientDidNotAskForUsage_UsageChunkHiddenButMetered()
    {
        using var response = await Gateway.PostAsync("/v1/completions", Completion(stream: true, maxTokens: 6, ignoreEos: true));
        var events = await GatewayHost.ReadEventsAsync(response);

        Assert.Equal("[DONE]", events[^1]);
        Assert.DoesNotContain(events, e => e.Contains("\"usage\":{", StringComparison.Ordinal));
        var record = await RecordOfAsync(RequestId(response));
        Assert.False(record.Estimated);
        Assert.Equal(6, record.CompletionTokens);
        Assert.True(record.PromptTokens > 0);
        Assert.True(record.Stream);
        Assert.NotNull(record.TimeToFirstTokenMs);
        Assert.Equal(UsageOutcome.Completed, record.Outcome);
    }

    [Fact]
    public async Task Stream_ClientAskedForUsage_UsageChunkForwarded()
    {
        using var response = await Gateway.PostAsync("/v1/chat/completions", new
        {
            model = GatewayHost.InstructModel,
            messages = new[] { new { role = "user", content = "Hello" } },
            max_tokens = 5,
            ignore_eos = true,
            stream = true,
            stream_options = new { include_usage = true },
        });
        var events = await GatewayHost.ReadEventsAsync(response);

        var usageChunk = GatewayHost.Parse(Assert.Single(events, e => e.Contains("\"usage\":{", StringComparison.Ordinal)))!;
        var record = await RecordOfAsync(RequestId(response));
        Assert.Equal((int)usageChunk["usage"]!["completion_tokens"]!, record.CompletionTokens);
        Assert.Equal((int)usageChunk["usage"]!["prompt_tokens"]!, record.PromptTokens);
        Assert.Equal(GatewayHost.InstructModel, record.Model);
    }

    [Fact]
    public async Task Stream_ClientDisconnects_RecordedAsCancelledWithTheWorkersExactCounts()
    {
        using var complete = await Gateway.PostAsync("/v1/completions", Completion(stream: false, maxTokens: 1));
        var promptTokens = (int)GatewayHost.Parse(await complete.Content.ReadAsStringAsync())!["usage"]!["prompt_tokens"]!;

        // Long enough not to finish before the server sees the connection close.
        var response = await Gateway.PostAsync("/v1/completions", Completion(stream: true, maxTokens: 1900, ignoreEos: true), option: HttpCompletionOption.ResponseHeadersRead);
        var requestId = RequestId(response);
        using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync()))
        {
            var received = 0;
            while (received < 3 && await reader.ReadLineAsync() is { } line)
            {
                received += line.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
            }
        }

        response.Dispose(); // aborts the connection mid-stream

        var record = await RecordOfAsync(requestId);
        Assert.Equal(UsageOutcome.Cancelled, record.Outcome);
        Assert.False(record.Estimated); // the in-process worker reported what it generated
        Assert.InRange(record.CompletionTokens, 3, 1899);
        Assert.Equal(promptTokens, record.PromptTokens); // exact, not the bytes/4 estimate
        Assert.True(record.ComputeSeconds > 0);
    }

    [Fact]
    public async Task AdminUsage_OpenLocalMode_ListsRecordsAsSnakeCaseJson()
    {
        using var response = await Gateway.PostAsync("/v1/completions", Completion(stream: false, maxTokens: 2));
        var requestId = RequestId(response);
        await RecordOfAsync(requestId);

        var body = GatewayHost.Parse(await Gateway.Http.GetStringAsync(new Uri("/admin/usage?key_id=local&limit=1000", UriKind.Relative)))!;

        var record = body["data"]!.AsArray().Single(r => (string?)r!["request_id"] == requestId)!;
        Assert.Equal("completed", (string?)record["outcome"]);
        Assert.Equal("local", (string?)record["team"]);
        Assert.True((int)record["prompt_tokens"]! > 0);
        Assert.NotNull(record["compute_seconds"]);
    }

    [Fact]
    public async Task UnknownModel_Failed_OneRecordWithStatus()
    {
        using var response = await Gateway.PostAsync("/v1/completions", new { model = "no-such-model", prompt = "x", max_tokens = 1 });

        var record = await RecordOfAsync(RequestId(response));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(404, record.HttpStatus);
        Assert.Equal(UsageOutcome.Failed, record.Outcome);
        Assert.Equal(0, record.PromptTokens + record.CompletionTokens);
    }

    [Fact]
    public async Task MixedRequests_Concurrency8_OneRecordPerRequest()
    {
        const int Requests = 40;
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForAsync(0, Requests, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            switch (i % 4)
            {
                case 0:
                {
                    using var response = await Gateway.PostAsync("/v1/completions", Completion(stream: false, maxTokens: 4), cancellationToken: ct);
                    ids.Add(RequestId(response));
                    break;
                }

                case 1:
                {
                    using var response = await Gateway.PostAsync("/v1/completions", Completion(stream: true, maxTokens: 4), cancellationToken: ct);
                    await GatewayHost.ReadEventsAsync(response);
                    ids.Add(RequestId(response));
                    break;
                }

                case 2:
                {
                    using var response = await Gateway.PostAsync("/v1/completions", Completion(stream: true, includeUsage: true, maxTokens: 4), cancellationToken: ct);
                    await GatewayHost.ReadEventsAsync(response);
                    ids.Add(RequestId(response));
                    break;
                }

                default:
                {
                    var response = await Gateway.PostAsync("/v1/completions", Completion(stream: true, maxTokens: 1900, ignoreEos: true), option: HttpCompletionOption.ResponseHeadersRead, cancellationToken: ct); // outlasts the 2 s drain on dispose
                    ids.Add(RequestId(response));
                    using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct)))
                    {
                        await reader.ReadLineAsync(ct);
                    }

                    response.Dispose();
                    break;
                }
            }
        });

        var wanted = ids.ToHashSet();
        Assert.Equal(Requests, wanted.Count);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<UsageRecord> mine;
        do
        {
            await Task.Delay(100);
            mine = [.. (await Gateway.UsageStore.QueryAsync(new UsageQuery { Limit = 100_000 }, CancellationToken.None)).Where(r => wanted.Contains(r.RequestId))];
        }
        while (mine.Count < Requests && DateTime.UtcNow < deadline);

        Assert.Equal(Requests, mine.Count);
        Assert.Equal(Requests, mine.Select(r => r.RequestId).Distinct().Count());
        Assert.Equal(Requests / 4, mine.Count(r => r.Outcome == UsageOutcome.Cancelled));
    }
}

/// <summary>The ledger survives a restart, and a graceful stop drains what is queued.</summary>
public sealed class MeteringDurabilityTests
{
    [Fact]
    public async Task Restart_RecordsWrittenBeforeStop_ArePresentAfterStart()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt = "Hi", max_tokens = 2, stream = i % 2 == 0 });
            await response.Content.ReadAsStringAsync();
            ids.Add(response.Headers.GetValues("x-request-id").Single());
        }

        await gateway.RestartAsync();

        var records = await gateway.UsageStore.QueryAsync(new UsageQuery { Limit = 1000 }, CancellationToken.None);
        Assert.Equal(ids.Order(), records.Select(r => r.RequestId).Order());
    }
}
