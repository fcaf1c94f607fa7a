using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ServeGate.LlamaCpp;
using ServeGate.Worker;
using ServeGate.Worker.Scheduling;

namespace ServeGate.Api.Tests;

/// <summary>A gateway whose schedulers stop with an error at their next loop turn once <see cref="Crash"/> is called.</summary>
public sealed class CrashingGatewayFixture : GatewayFixture
{
    private int _crash;

    /// <summary>The next scheduler to turn its loop (the one a request wakes) fails as a failed llama_decode would.</summary>
    public void Crash() => Volatile.Write(ref _crash, 1);

    protected override IReadOnlyDictionary<string, string?> Settings(string basePath, string instructPath) =>
        new Dictionary<string, string?>(base.Settings(basePath, instructPath))
        {
            ["ServeGate:Worker:QueueTimeout"] = "00:00:30",
        };

    protected override void BeforeStart(IServiceProvider services) =>
        services.GetRequiredService<IOptions<WorkerOptions>>().Value.Worker.FaultForTest = point =>
        {
            if (point == SchedulerFaultPoint.Loop && Interlocked.Exchange(ref _crash, 0) == 1)
            {
                throw new LlamaException("llama_decode failed (injected)");
            }
        };
}

/// <summary>A model whose scheduler has stopped answers at once with a clear 503, and says so on /ready and /v1/models.</summary>
public sealed class SchedulerFailureTests(CrashingGatewayFixture gateway) : IClassFixture<CrashingGatewayFixture>
{
    private static JsonContent Completion(string model) => JsonContent.Create(new { model, prompt = "Once upon a time", max_tokens = 4 });

    [Fact]
    public async Task SchedulerCrash_ModelFailsFast503_ReadyReportsIt_OtherModelServes()
    {
        using (var before = await gateway.Http.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion(GatewayFixture.BaseModel)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        // The base model's scheduler waits for work; the request that wakes it meets the failure.
        await Task.Delay(200);
        gateway.Crash();
        var clock = Stopwatch.StartNew();
        using (var woke = await gateway.Http.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion(GatewayFixture.BaseModel)))
        {
            // Queued before the loop turned (the scheduler failed it), or refused after: a 503 either way.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, woke.StatusCode);
            var code = (string?)(await woke.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["code"];
            Assert.Contains(code, new[] { "generation_failed", "model_failed" });
        }

        using var after = await gateway.Http.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion(GatewayFixture.BaseModel));

        // Both within seconds, not the 30 s queue timeout.
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, after.StatusCode);
        var error = (await after.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal("model_failed", (string?)error["code"]);
        Assert.Contains("internal error", (string?)error["message"], StringComparison.Ordinal);

        using var ready = await gateway.Http.GetAsync(new Uri("/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var models = (await ready.Content.ReadFromJsonAsync<JsonObject>())!["models"]!.AsArray();
        Assert.Equal("failed", (string?)models.Single(m => (string?)m!["id"] == GatewayFixture.BaseModel)!["status"]);
        Assert.Equal("ready", (string?)models.Single(m => (string?)m!["id"] == GatewayFixture.InstructModel)!["status"]);

        using var other = await gateway.Http.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion(GatewayFixture.InstructModel));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        // A stream running when its scheduler fails ends with an error event, not a hang or a clean finish.
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative))
        {
            Content = JsonContent.Create(new { model = GatewayFixture.InstructModel, prompt = "A long story", max_tokens = 400, ignore_eos = true, stream = true }),
        };
        using var stream = await gateway.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        var events = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(line);
                if (events.Count == 1)
                {
                    gateway.Crash();
                }
            }
        }

        Assert.InRange(events.Count, 2, 399);
        Assert.Contains(events, e => e.Contains("\"error\"", StringComparison.Ordinal) && e.Contains("internal error", StringComparison.Ordinal));
    }
}
