using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ServeGate.Ledger;
using ServeGate.Worker.Models;
using ServeGate.Worker.Scheduling;

namespace ServeGate.Gateway.Tests;

/// <summary>
/// Workers added and removed while the gateway runs, through its watched settings file and through the admin API,
/// without dropping a request in flight on a worker that is taken out.
/// </summary>
public sealed class WorkerReloadTests
{
    private static readonly Dictionary<string, string?> LongContext = new() { ["ServeGate:Worker:ContextLength"] = "4096" };

    private static void WriteWorkers(string path, params string[] urls) => File.WriteAllText(path, JsonSerializer.Serialize(new
    {
        ServeGate = new { Gateway = new { Workers = urls.Select(u => new { Url = u, Models = new[] { GatewayHost.BaseModel } }).ToArray() } },
    }));

    private static async Task<List<string>> ListedAsync(GatewayHost gateway)
    {
        var body = GatewayHost.Parse(await gateway.Http.GetStringAsync(new Uri("/admin/workers", UriKind.Relative)))!;
        return [.. body["data"]!.AsArray().Select(w => (string)w!["url"]!)];
    }

    private static async Task WaitForWorkersAsync(GatewayHost gateway, params string[] urls)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!(await ListedAsync(gateway)).SequenceEqual(urls))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the gateway did not switch to [{string.Join(", ", urls)}] within 15 s");
            await Task.Delay(50);
        }
    }

    private static SchedulerCounters CountersOf(WebApplication worker)
    {
        Assert.True(worker.Services.GetRequiredService<ModelRegistry>().TryGet(GatewayHost.BaseModel, out var model));
        return model.Scheduler!.Counters;
    }

    private static async Task<string> WorkerOfAsync(GatewayHost gateway, string prompt)
    {
        using var response = await gateway.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt, max_tokens = 1 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await gateway.RecordOfAsync(response.Headers.GetValues("x-request-id").Single())).Worker;
    }

    [Fact]
    public async Task Workers_ChangedWhileRunning_NewRequestsFollowAndInFlightOnesFinish()
    {
        var (a, urlA) = await RoutingTests.StartWorkerAsync(withInstruct: false, LongContext);
        var (b, urlB) = await RoutingTests.StartWorkerAsync(withInstruct: false, LongContext);
        var directory = Directory.CreateTempSubdirectory("servegate-reload-").FullName;
        var file = Path.Combine(directory, "workers.json");
        WriteWorkers(file, urlA);
        try
        {
            await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
            {
                ["ServeGate:ConfigFile"] = file,
                ["ServeGate:Gateway:Routing:HealthCheckInterval"] = "00:00:00.500",
            });
            Assert.Equal(urlA, await WorkerOfAsync(gateway, "Before the change"));

            // A long stream on A, in flight while A is taken out of the settings file and B put in.
            using var stream = await gateway.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt = "Once upon a time", max_tokens = 1200, ignore_eos = true, stream = true }, option: HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            var streamId = stream.Headers.GetValues("x-request-id").Single();
            using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
            for (var read = 0; read < 3;)
            {
                read += (await reader.ReadLineAsync())!.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
            }

            WriteWorkers(file, urlB);
            await WaitForWorkersAsync(gateway, urlB);
            var generatedAtSwitch = CountersOf(a).CompletionTokens;
            Assert.Equal(urlB, await WorkerOfAsync(gateway, "After the change"));

            var events = new List<string>();
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    events.Add(line["data: ".Length..]);
                }
            }

            Assert.Equal("[DONE]", events[^1]);
            Assert.Contains("\"finish_reason\":\"length\"", events[^2], StringComparison.Ordinal);
            Assert.True(CountersOf(a).CompletionTokens > generatedAtSwitch, "the stream had ended before the switch; nothing was in flight");
            var streamed = await gateway.RecordOfAsync(streamId);
            Assert.Equal((UsageOutcome.Completed, urlA, 1200), (streamed.Outcome, streamed.Worker, streamed.CompletionTokens));

            // The admin API: put A back, take B out; an unknown worker is a 404, an invalid one a 400.
            using (var add = await gateway.Http.PostAsync(new Uri("/admin/workers", UriKind.Relative), GatewayHost.Json(new { url = urlA, models = new[] { GatewayHost.BaseModel } })))
            {
                Assert.Equal(HttpStatusCode.Created, add.StatusCode);
            }

            using (var remove = await gateway.Http.DeleteAsync(new Uri("/admin/workers?url=" + Uri.EscapeDataString(urlB), UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
            }

            using (var unknown = await gateway.Http.DeleteAsync(new Uri("/admin/workers?url=http://127.0.0.1:9", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            }

            using (var invalid = await gateway.Http.PostAsync(new Uri("/admin/workers", UriKind.Relative), GatewayHost.Json(new { url = "not a url", models = new[] { "m" } })))
            {
                Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            }

            Assert.Equal([urlA], await ListedAsync(gateway));
            Assert.Equal(urlA, await WorkerOfAsync(gateway, "After the admin change"));

            // An invalid edit (a worker without models) is ignored: the last valid set stays and requests go on.
            File.WriteAllText(file, """{"ServeGate": {"Gateway": {"Workers": [{"Url": "http://127.0.0.1:9"}]}}}""");
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            Assert.Equal([urlA], await ListedAsync(gateway));
            Assert.Equal(urlA, await WorkerOfAsync(gateway, "After an invalid edit"));
        }
        finally
        {
            await RoutingTests.StopAsync(a);
            await RoutingTests.StopAsync(b);
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task AddWorker_EmbeddedGateway_Returns409()
    {
        await using var gateway = await GatewayHost.StartAsync();

        using var add = await gateway.Http.PostAsync(new Uri("/admin/workers", UriKind.Relative), GatewayHost.Json(new { url = "http://127.0.0.1:9", models = new[] { "m" } }));

        Assert.Equal(HttpStatusCode.Conflict, add.StatusCode);
    }
}
