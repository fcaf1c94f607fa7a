extern alias workerhost;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using ServeGate.Gateway;
using ServeGate.Tests.Common;
using workerhost::ServeGate.WorkerHost;

namespace ServeGate.Deploy.Tests;

/// <summary>
/// docker-compose.yml's topology run without Docker: each ServeGate service as a host on loopback with the file's own
/// command line and environment (the image's ENV under it), service names and ports mapped to free loopback ports, its
/// volumes to temporary folders, and a real redis-server for the redis service. A key created on one gateway replica
/// then serves both demo models through the other, routed to the workers, and is metered there.
/// </summary>
public sealed class ComposeTopologyTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string AdminKey = "compose-topology-admin-key";
    private readonly List<WebApplication> _hosts = [];
    private readonly string _volumes = Directory.CreateTempSubdirectory("servegate-compose-").FullName;
    private readonly Dictionary<string, int> _ports = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in Enumerable.Reverse(_hosts))
        {
            await host.DisposeAsync();
        }

        Directory.Delete(_volumes, recursive: true);
    }

    [Fact]
    public async Task ComposeTopology_KeyCreatedOnOneReplica_ServesBothModelsThroughTheOtherAndIsMeteredThere()
    {
        var services = DeployFiles.ComposeServices();
        var dockerfile = DeployFiles.LoadDockerfile();
        var serveGate = services.Where(s => s.IsServeGate).ToList();
        foreach (var service in serveGate)
        {
            _ports[service.Name] = TestEnvironment.FreePort();
        }

        var redisService = services.Single(s => s.Image?.StartsWith("redis:", StringComparison.Ordinal) == true).Name;

        // Workers first, then the gateways (their depends_on).
        var urls = new Dictionary<string, string>();
        foreach (var service in serveGate.OrderBy(s => s.BuildTarget == DeployFiles.GatewayTarget))
        {
            var args = service.Command.Select(a => Rewrite(service, a, redisService)).ToArray();
            var settings = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" };
            var environment = dockerfile.Environment(service.BuildTarget!)
                .Concat(service.Environment.Select(e => new KeyValuePair<string, string>(e.Name, e.Value)));
            foreach (var (name, value) in environment)
            {
                if (name == "SERVEGATE_ADMIN_KEY")
                {
                    Assert.Equal(name, ComposeService.InterpolatedVariable(value));
                    settings["ServeGate:Gateway:AdminKey"] = AdminKey; // what the operator's environment would give
                }
                else if (name.Contains("__", StringComparison.Ordinal))
                {
                    settings[name.Replace("__", ":", StringComparison.Ordinal)] = Rewrite(service, value, redisService);
                }

                // SERVEGATE_CACHE is the test run's own cache (process-wide): the demo models are generated once there.
            }

            var host = service.BuildTarget == DeployFiles.GatewayTarget
                ? ServeGateApplication.Create(args, settings)
                : WorkerHostApplication.Create(args, settings);
            _hosts.Add(host);
            await host.StartAsync();
            urls[service.Name] = $"http://127.0.0.1:{_ports[service.Name]}";
            await WaitReadyAsync(urls[service.Name]);
        }

        var gateways = serveGate.Where(s => s.BuildTarget == DeployFiles.GatewayTarget).Select(s => urls[s.Name]).ToList();
        var workers = serveGate.Where(s => s.BuildTarget == DeployFiles.WorkerTarget).Select(s => urls[s.Name]).ToList();
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(1) };

        using (var anonymous = await http.PostAsJsonAsync(gateways[0] + "/v1/completions", new { model = DeployFiles.DemoModelIds[0], prompt = "Hi", max_tokens = 2 }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode); // every address, no key yet: refused
        }

        string key, keyId;
        using (var created = await SendAsync(http, HttpMethod.Post, gateways[0] + "/admin/keys", AdminKey, new { name = "compose", team = "ops" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var body = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
            (key, keyId) = ((string)body["key"]!, (string)body["id"]!);
        }

        using (var completion = await SendAsync(http, HttpMethod.Post, gateways[1] + "/v1/completions", key,
            new { model = "servegate-demo-base", prompt = "Once upon a time", max_tokens = 4 }))
        {
            Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        }

        using (var chat = await SendAsync(http, HttpMethod.Post, gateways[1] + "/v1/chat/completions", key,
            new { model = "servegate-demo-instruct", messages = new[] { new { role = "user", content = "Hello" } }, max_tokens = 4 }))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        }

        // Metered on the replica that served them, under the key created on the other, each by a worker of the pool.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonArray records;
        do
        {
            await Task.Delay(100);
            using var usage = await SendAsync(http, HttpMethod.Get, $"{gateways[1]}/admin/usage?key_id={keyId}", AdminKey);
            records = JsonNode.Parse(await usage.Content.ReadAsStringAsync())!["data"]!.AsArray();
        }
        while (records.Count < 2 && DateTime.UtcNow < deadline);

        Assert.Equal(["servegate-demo-base", "servegate-demo-instruct"], records.Select(r => (string)r!["model"]!).Order(StringComparer.Ordinal));
        Assert.All(records, r => Assert.Contains((string)r!["worker"]!, workers));
        Assert.All(records, r => Assert.True((int)r!["completion_tokens"]! > 0));
    }

    /// <summary>A value of the compose file as it applies on loopback: service addresses, the redis service, volumes.</summary>
    private string Rewrite(ComposeService service, string value, string redisService)
    {
        foreach (var (name, port) in _ports)
        {
            value = Regex.Replace(value, $@"^http://{Regex.Escape(name)}:\d+", $"http://127.0.0.1:{port}");
        }

        if (value == $"{redisService}:6379")
        {
            return redis.Configuration;
        }

        foreach (var (volume, target) in service.Volumes)
        {
            if (value.StartsWith(target + "/", StringComparison.Ordinal))
            {
                return Path.Combine(Directory.CreateDirectory(Path.Combine(_volumes, volume)).FullName, value[(target.Length + 1)..]);
            }
        }

        // The port a service listens on (its own --port value) becomes its loopback port.
        return value == DeployFiles.Argument(service.Command, "--port") && _ports.TryGetValue(service.Name, out var own) ? own.ToString(System.Globalization.CultureInfo.InvariantCulture) : value;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string url, string bearer, object? body = null)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await http.SendAsync(request);
    }

    private static async Task WaitReadyAsync(string url)
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(url + "/ready"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            Assert.True(DateTime.UtcNow < deadline, $"{url}/ready did not answer 200 within 120 s");
            await Task.Delay(100);
        }
    }
}
