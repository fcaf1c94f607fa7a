using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ServeGate.Ledger;
using ServeGate.Worker.Models;
using ServeGate.Worker.Scheduling;

namespace ServeGate.Gateway.Tests;

/// <summary>
/// A client that gives up on a request the gateway forwarded to a remote worker is metered for exactly what the
/// worker generated: the gateway asks the worker (<c>/internal/usage/{id}</c>) after the cut. The worker host is this
/// class's alone, so the difference of its scheduler's token counter is the independent measure.
/// </summary>
public sealed class RemoteMeteringTests : IAsyncLifetime
{
    private WebApplication _worker = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        // Room for a generation long enough to be cut short on a fast machine.
        (_worker, var url) = await RoutingTests.StartWorkerAsync(withInstruct: false, new Dictionary<string, string?> { ["ServeGate:Worker:ContextLength"] = "4096" });
        _gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["ServeGate:Gateway:Workers:0:Url"] = url,
            ["ServeGate:Gateway:Workers:0:Models:0"] = GatewayHost.BaseModel,
        });

        // One request end to end first: the worker's scheduler has warmed up (and reset its counters) before we count.
        using var warm = await _gateway.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt = "Warm", max_tokens = 1 });
        Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await RoutingTests.StopAsync(_worker);
    }

    private SchedulerCounters Counters
    {
        get
        {
            Assert.True(_worker.Services.GetRequiredService<ModelRegistry>().TryGet(GatewayHost.BaseModel, out var model));
            return model.Scheduler!.Counters;
        }
    }

    private static object LongCompletion(bool stream) =>
        new { model = GatewayHost.BaseModel, prompt = "Once upon a time", max_tokens = 1900, ignore_eos = true, temperature = 0, stream };

    [Fact]
    public async Task Stream_ClientDisconnects_RecordsExactlyWhatTheWorkerGenerated()
    {
        var before = Counters.CompletionTokens;
        var response = await _gateway.PostAsync("/v1/completions", LongCompletion(stream: true), option: HttpCompletionOption.ResponseHeadersRead);
        var requestId = response.Headers.GetValues("x-request-id").Single();
        using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync()))
        {
            var received = 0;
            while (received < 5 && await reader.ReadLineAsync() is { } line)
            {
                received += line.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
            }
        }

        response.Dispose(); // aborts mid-stream

        var record = await _gateway.RecordOfAsync(requestId);
        var generated = Counters.CompletionTokens - before;
        Assert.Equal(UsageOutcome.Cancelled, record.Outcome);
        Assert.False(record.Estimated);
        Assert.InRange(generated, 5, 1899);
        Assert.Equal(generated, record.CompletionTokens);
        Assert.True(record.PromptTokens > 0);
        Assert.True(record.ComputeSeconds > 0);
    }

    [Fact]
    public async Task Stream_WorkerGoesAwayMidStream_RecordedAsFailedWithTheStreamedEstimate()
    {
        var response = await _gateway.PostAsync("/v1/completions", LongCompletion(stream: true), option: HttpCompletionOption.ResponseHeadersRead);
        var requestId = response.Headers.GetValues("x-request-id").Single();
        var lines = new List<string>();
        using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync()))
        {
            while (lines.Count < 5 && await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    lines.Add(line);
                }
            }

            // The worker process goes away: its connections are dropped at once, nothing is drained.
            await _worker.StopAsync(new CancellationToken(canceled: true));
            try
            {
                while (await reader.ReadLineAsync() is { } line)
                {
                    lines.Add(line);
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                // The gateway cut the client's stream too: it cannot change a status already sent.
            }
        }

        response.Dispose();
        Assert.DoesNotContain("data: [DONE]", lines);

        var record = await _gateway.RecordOfAsync(requestId);
        Assert.Equal(UsageOutcome.Failed, record.Outcome);
        Assert.Equal(502, record.HttpStatus);
        Assert.True(record.Estimated); // the worker that knew the exact counts is gone
        Assert.InRange(record.CompletionTokens, 5, 1899);
        Assert.True(record.PromptTokens > 0);
    }

    [Fact]
    public async Task NonStreaming_ClientGivesUp_RecordsExactlyWhatTheWorkerGenerated()
    {
        var before = Counters.CompletionTokens;
        using var giveUp = new CancellationTokenSource();
        var sent = _gateway.PostAsync("/v1/completions", LongCompletion(stream: false), cancellationToken: giveUp.Token);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Counters.CompletionTokens - before < 5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sent);

        // The client never saw a response, so only the gateway's own record names the request.
        var deadlineRecord = DateTime.UtcNow.AddSeconds(30);
        UsageRecord? record = null;
        while (record is null && DateTime.UtcNow < deadlineRecord)
        {
            record = (await _gateway.UsageStore.QueryAsync(new UsageQuery { Limit = 1000 }, CancellationToken.None))
                .SingleOrDefault(r => r.Outcome == UsageOutcome.Cancelled);
            await Task.Delay(50);
        }

        Assert.NotNull(record);
        var generated = Counters.CompletionTokens - before;
        Assert.False(record.Estimated);
        Assert.InRange(generated, 5, 1899);
        Assert.Equal(generated, record.CompletionTokens);
        Assert.Equal(499, record.HttpStatus);
    }
}
