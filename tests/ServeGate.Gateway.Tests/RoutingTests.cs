using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using ServeGate.Ledger;
using ServeGate.Tests.Common;
using ServeGate.WorkerHost;
using Xunit.Abstractions;

namespace ServeGate.Gateway.Tests;

/// <summary>
/// Two real worker hosts (in-process apps on loopback port 0, each serving the tiny model) behind one gateway: routing
/// by model, failover, and prefix affinity against round-robin.
/// </summary>
public sealed class RoutingTests(ITestOutputHelper output)
{
    internal static async Task<(WebApplication App, string Url)> StartWorkerAsync(bool withInstruct, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ServeGate:Port"] = "0",
            ["ServeGate:Models:0:Id"] = GatewayHost.BaseModel,
            ["ServeGate:Models:0:Path"] = await TestModels.GetAsync(TestModel.TinyBase),
            ["ServeGate:Worker:Parallel"] = "2",
            ["ServeGate:Worker:ContextLength"] = "512",
            ["ServeGate:Worker:CacheSlots"] = "4", // room for every shared prefix of the affinity test
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        if (withInstruct)
        {
            settings["ServeGate:Models:1:Id"] = GatewayHost.InstructModel;
            settings["ServeGate:Models:1:Path"] = await TestModels.GetAsync(TestModel.TinyInstruct);
        }

        var app = WorkerHostApplication.Create([], settings);
        await app.StartAsync();
        using var http = new HttpClient();
        var url = app.Urls.First();
        for (var i = 0; i < 600 && !(await http.GetAsync(new Uri(url + "/ready"))).IsSuccessStatusCode; i++)
        {
            await Task.Delay(100);
        }

        return (app, url);
    }

    private static Dictionary<string, string?> Workers(string a, string b, bool withInstructOnB = true, string balancing = "LeastOutstanding", bool affinity = true)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ServeGate:Gateway:Workers:0:Url"] = a,
            ["ServeGate:Gateway:Workers:0:Models:0"] = GatewayHost.BaseModel,
            ["ServeGate:Gateway:Workers:1:Url"] = b,
            ["ServeGate:Gateway:Workers:1:Models:0"] = GatewayHost.BaseModel,
            ["ServeGate:Gateway:Routing:Balancing"] = balancing,
            ["ServeGate:Gateway:Routing:PrefixAffinity"] = affinity.ToString(CultureInfo.InvariantCulture),
            ["ServeGate:Gateway:Routing:HealthCheckInterval"] = "00:00:00.500",
        };
        if (withInstructOnB)
        {
            settings["ServeGate:Gateway:Workers:1:Models:1"] = GatewayHost.InstructModel;
        }

        return settings;
    }

    internal static async Task StopAsync(WebApplication app)
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Gateway_TwoWorkers_RoutesByModelListsAllAndFailsOver()
    {
        var (a, urlA) = await StartWorkerAsync(withInstruct: false);
        var (b, urlB) = await StartWorkerAsync(withInstruct: true);
        try
        {
            await using var gateway = await GatewayHost.StartAsync(Workers(urlA, urlB));

            var models = GatewayHost.Parse(await gateway.Http.GetStringAsync(new Uri("/v1/models", UriKind.Relative)))!["data"]!.AsArray().Select(m => (string)m!["id"]!).ToList();
            using var chat = await gateway.PostAsync("/v1/chat/completions", new { model = GatewayHost.InstructModel, messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 2 });
            using var streamed = await gateway.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt = "Once upon", max_tokens = 3, stream = true });
            var events = await GatewayHost.ReadEventsAsync(streamed);

            Assert.Equal([GatewayHost.BaseModel, GatewayHost.InstructModel], models);
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
            Assert.Equal("[DONE]", events[^1]);
            Assert.DoesNotContain(events, e => e.Contains("\"usage\":{", StringComparison.Ordinal));
            var records = await gateway.WaitForUsageAsync(2);
            Assert.Equal(urlB, records.Single(r => r.Model == GatewayHost.InstructModel).Worker);
            var streamRecord = records.Single(r => r.Stream);
            Assert.False(streamRecord.Estimated);
            Assert.True(streamRecord.ComputeSeconds > 0);

            await StopAsync(a);
            a = null!;
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 6; i++)
            {
                using var response = await gateway.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt = "Prompt number " + i, max_tokens = 2 });
                statuses.Add(response.StatusCode);
            }

            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
            var after = await gateway.WaitForUsageAsync(8);
            Assert.All(after.OrderByDescending(r => r.Timestamp).Take(6), r => Assert.Equal(urlB, r.Worker));
        }
        finally
        {
            if (a is not null)
            {
                await StopAsync(a);
            }

            await StopAsync(b);
        }
    }

    [Fact]
    public async Task PrefixAffinity_SharedPrefixes_MoreCachedTokensThanRoundRobin()
    {
        var (a, urlA) = await StartWorkerAsync(withInstruct: false);
        var (b, urlB) = await StartWorkerAsync(withInstruct: false);
        try
        {
            var roundRobin = await CachedShareAsync(Workers(urlA, urlB, withInstructOnB: false, balancing: "RoundRobin", affinity: false), "rr");
            var affinity = await CachedShareAsync(Workers(urlA, urlB, withInstructOnB: false, balancing: "RoundRobin", affinity: true), "af");
            output.WriteLine($"cached/prompt tokens: round-robin {roundRobin:P1}, prefix affinity {affinity:P1}");

            Assert.True(affinity > roundRobin, $"affinity {affinity:P1} <= round-robin {roundRobin:P1}");
        }
        finally
        {
            await StopAsync(a);
            await StopAsync(b);
        }
    }

    /// <summary>
    /// Sends 2 shared prefixes in pairs (p0 p0 p1 p1 ...), 12 requests one at a time, so round-robin never sends a
    /// prefix twice in a row to one worker; returns cached / prompt tokens.
    /// </summary>
    private static async Task<double> CachedShareAsync(Dictionary<string, string?> settings, string salt)
    {
        await using var gateway = await GatewayHost.StartAsync(settings);
        var prefixes = Enumerable.Range(0, 2).Select(p => string.Join(' ', Enumerable.Repeat($"{salt} shared context {p} about topic {p * 7}.", 8))).ToArray();
        for (var i = 0; i < 12; i++)
        {
            using var response = await gateway.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt = prefixes[i / 2 % 2] + " Question " + i, max_tokens = 1, temperature = 0 });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var records = await gateway.WaitForUsageAsync(12);
        return (double)records.Sum(r => r.CachedTokens) / records.Sum(r => r.PromptTokens);
    }

    [Fact]
    public async Task WorkerCalledDirectly_LoneSurrogateInAString_400NotA500()
    {
        var (worker, url) = await StartWorkerAsync(withInstruct: false);
        await using (worker)
        {
            using var http = new HttpClient();
            using var content = new StringContent("""{"model":"tiny-base","prompt":"a","stop":"\udc00","max_tokens":1}""", System.Text.Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(new Uri(url + "/v1/completions"), content);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
            Assert.Contains("\"param\":\"stop\"", text, StringComparison.Ordinal);
        }
    }
}
