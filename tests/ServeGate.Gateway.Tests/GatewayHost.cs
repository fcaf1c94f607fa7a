using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ServeGate.Gateway;
using ServeGate.Ledger;
using ServeGate.Tests.Common;

namespace ServeGate.Gateway.Tests;

/// <summary>
/// One gateway with its in-process worker on a free loopback port, serving the tiny base and instruct models, with
/// its usage ledger in a SQLite file of its own (a temp folder kept across <see cref="RestartAsync"/>).
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    public const string BaseModel = "tiny-base";
    public const string InstructModel = "tiny-instruct";

    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private WebApplication? _app;

    private GatewayHost(Dictionary<string, string?> settings, string directory, Action<IServiceCollection>? services)
    {
        _settings = settings;
        _services = services;
        Directory = directory;
    }

    public string Directory { get; }

    public HttpClient Http { get; private set; } = null!;

    public IServiceProvider Services => _app!.Services;

    public UsageWriter UsageWriter => Services.GetRequiredService<UsageWriter>();

    public IUsageStore UsageStore => Services.GetRequiredService<IUsageStore>();

    public static async Task<GatewayHost> StartAsync(IReadOnlyDictionary<string, string?>? extra = null, string? directory = null, Action<IServiceCollection>? services = null)
    {
        var basePath = await TestModels.GetAsync(TestModel.TinyBase);
        var instructPath = await TestModels.GetAsync(TestModel.TinyInstruct);
        directory ??= System.IO.Directory.CreateTempSubdirectory("servegate-gateway-").FullName;
        var settings = new Dictionary<string, string?>
        {
            ["ServeGate:Port"] = "0",
            ["ServeGate:Models:0:Id"] = BaseModel,
            ["ServeGate:Models:0:Path"] = basePath,
            ["ServeGate:Models:1:Id"] = InstructModel,
            ["ServeGate:Models:1:Path"] = instructPath,
            ["ServeGate:Worker:Parallel"] = "4",
            ["ServeGate:Worker:ContextLength"] = "2048",
            ["ServeGate:Metering:DatabasePath"] = Path.Combine(directory, "usage.db"),
            ["ServeGate:Gateway:KeyStorePath"] = Path.Combine(directory, "keys.db"),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var host = new GatewayHost(settings, directory, services);
        await host.StartAppAsync();
        return host;
    }

    private async Task StartAppAsync()
    {
        _app = ServeGateApplication.Create([], _settings, _services);
        await _app.StartAsync();
        // A gateway listening on every address (ServeGate:Host 0.0.0.0) is called on loopback.
        var url = new UriBuilder(_app.Urls.First());
        url.Host = url.Host is "0.0.0.0" or "[::]" ? "127.0.0.1" : url.Host;
        // A response disposed before its end closes the connection, as a client that leaves does; by default HttpClient
        // would read on for up to 2 s (ResponseDrainTimeout) to reuse it, and the server would not see the client go.
        Http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = url.Uri, Timeout = TimeSpan.FromMinutes(1) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await Http.GetAsync(new Uri("/ready", UriKind.Relative));
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The gateway did not become ready within 60 s.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Stops gracefully (drains the usage writer) and starts again on the same files.</summary>
    public async Task RestartAsync()
    {
        await StopAppAsync();
        await StartAppAsync();
    }

    private async Task StopAppAsync()
    {
        Http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    /// <summary>Waits (bounded) until at least <paramref name="count"/> records were written, then returns them all.</summary>
    public async Task<IReadOnlyList<UsageRecord>> WaitForUsageAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var records = await UsageStore.QueryAsync(new UsageQuery { Limit = 100_000 }, CancellationToken.None);
            if (records.Count >= count || DateTime.UtcNow > deadline)
            {
                return records;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Waits (bounded) for the one usage record of <paramref name="requestId"/> (its <c>x-request-id</c>).</summary>
    public async Task<UsageRecord> RecordOfAsync(string requestId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var records = await UsageStore.QueryAsync(new UsageQuery { Limit = 100_000 }, CancellationToken.None);
            var matches = records.Where(r => r.RequestId == requestId).ToList();
            if (matches.Count > 0 || DateTime.UtcNow > deadline)
            {
                return Assert.Single(matches);
            }

            await Task.Delay(50);
        }
    }

    public static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    public Task<HttpResponseMessage> PostAsync(string path, object body, string? apiKey = null, HttpCompletionOption option = HttpCompletionOption.ResponseContentRead, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, path, apiKey, body, option, cancellationToken);

    /// <summary>Any request, with a JSON body and an <c>Authorization: Bearer</c> key when given.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? bearer, object? body = null, HttpCompletionOption option = HttpCompletionOption.ResponseContentRead, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = body is null ? null : Json(body) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        return await Http.SendAsync(request, option, cancellationToken);
    }

    /// <summary>The <c>data:</c> payloads of an SSE response.</summary>
    public static async Task<List<string>> ReadEventsAsync(HttpResponseMessage response)
    {
        var events = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(line["data: ".Length..]);
            }
        }

        return events;
    }

    public static JsonNode? Parse(string json) => JsonNode.Parse(json);

    public async ValueTask DisposeAsync()
    {
        await StopAppAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
