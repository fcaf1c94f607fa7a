using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ServeGate.Worker.Models;

namespace ServeGate.Api.Tests;

/// <summary>A gateway with one sequence per model and a one-request queue, so admission limits are easy to reach.</summary>
public sealed class SingleSlotGatewayFixture : GatewayFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings(string basePath, string instructPath) =>
        new Dictionary<string, string?>(base.Settings(basePath, instructPath))
        {
            ["ServeGate:Worker:Parallel"] = "1",
            ["ServeGate:Worker:MaxQueue"] = "1",
            ["ServeGate:Worker:QueueTimeout"] = "00:00:01.5",
            ["ServeGate:Worker:ContextLength"] = "2048",
        };
}

/// <summary>Queue bound (429), queue timeout (503) and client disconnects (cells freed) over HTTP.</summary>
public sealed class AdmissionTests(SingleSlotGatewayFixture gateway) : IClassFixture<SingleSlotGatewayFixture>
{
    private static object LongRequest(int maxTokens = 2000) =>
        new { model = GatewayFixture.BaseModel, prompt = "A very long story", max_tokens = maxTokens, ignore_eos = true, stream = true };

    private async Task<HttpResponseMessage> StartStreamAsync(object body, CancellationToken cancellationToken = default)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = JsonContent.Create(body) };
        return await gateway.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    private Worker.Scheduling.InferenceScheduler Scheduler =>
        gateway.Services.GetRequiredService<ModelRegistry>().All.Single(m => m.Id == GatewayFixture.BaseModel).Scheduler!;

    private (int Tokens, bool Busy)[] Slots() => [.. Scheduler.SnapshotSlots()];

    /// <summary>
    /// Waits until the one sequence is free and the queue empty: the tests share this gateway, and a request another
    /// test abandoned is dropped only once the server has seen its connection close.
    /// </summary>
    private async Task WaitIdleAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((Slots().Any(s => s.Busy) || Scheduler.Counters.Queued > 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task QueueFull_429WithRetryAfterAndEnvelope_ThenQueueTimeout503()
    {
        await WaitIdleAsync();
        using var cancel = new CancellationTokenSource();
        using var running = await StartStreamAsync(LongRequest(), cancel.Token);
        Assert.Equal(HttpStatusCode.OK, running.StatusCode);

        // The one sequence is busy; the next request waits in the queue, the one after is refused.
        var queued = gateway.Http.PostAsJsonAsync(new Uri("/v1/completions", UriKind.Relative), new { model = GatewayFixture.BaseModel, prompt = "queued", max_tokens = 2 });
        await Task.Delay(300);
        using var refused = await gateway.Http.PostAsJsonAsync(new Uri("/v1/completions", UriKind.Relative), new { model = GatewayFixture.BaseModel, prompt = "refused", max_tokens = 2 });

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter is not null);
        var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("rate_limit_error", (string?)error["type"]);

        // The queued request gives up after QueueTimeout (1.5 s) with a clear 503.
        using var timedOut = await queued;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, timedOut.StatusCode);
        Assert.Equal("queue_timeout", (string?)JsonNode.Parse(await timedOut.Content.ReadAsStringAsync())!["error"]!["code"]);
        await cancel.CancelAsync();
    }

    [Fact]
    public async Task ClientDisconnectMidStream_SequenceFreedQuickly()
    {
        await WaitIdleAsync();
        var generatedBefore = Scheduler.Counters.CompletionTokens;
        using (var response = await StartStreamAsync(LongRequest()))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            for (var i = 0; i < 6; i++)
            {
                await reader.ReadLineAsync();
            }

            Assert.Contains(Slots(), s => s.Busy);
        }

        // Disposing the response closes the connection; the scheduler sees the abort at its next step.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (Slots().Any(s => s.Busy || s.Tokens > 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.All(Slots(), s => Assert.Equal((0, false), s));

        // Freed because the client left, not because the generation reached max_tokens.
        Assert.InRange(Scheduler.Counters.CompletionTokens - generatedBefore, 3, 1999);
    }
}
