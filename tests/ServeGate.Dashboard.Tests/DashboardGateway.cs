using System.ClientModel;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using ServeGate.Gateway;
using ServeGate.Ledger;
using ServeGate.Tests.Common;

namespace ServeGate.Dashboard.Tests;

/// <summary>
/// A gateway with its in-process worker on a free loopback port, serving the tiny base and instruct models, with its
/// own ledger and key store; open local mode until a key is created, and an admin key to create them.
/// </summary>
public sealed class DashboardGateway : IAsyncDisposable
{
    public const string BaseModel = "tiny-base";
    public const string InstructModel = "tiny-instruct";
    public const string AdminKey = "sg-admin-dashboard-tests";

    private readonly string? _ownDirectory;
    private readonly WebApplication _app;

    private DashboardGateway(string? ownDirectory, WebApplication app, Uri address)
    {
        _ownDirectory = ownDirectory;
        _app = app;
        BaseAddress = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public IUsageStore UsageStore => _app.Services.GetRequiredService<IUsageStore>();

    /// <summary>Starts a gateway on <paramref name="dataDirectory"/> (kept), or on a temp folder of its own (deleted at dispose).</summary>
    public static async Task<DashboardGateway> StartAsync(string? dataDirectory = null)
    {
        var basePath = await TestModels.GetAsync(TestModel.TinyBase);
        var instructPath = await TestModels.GetAsync(TestModel.TinyInstruct);
        var directory = dataDirectory ?? Directory.CreateTempSubdirectory("servegate-dashboard-").FullName;
        var app = ServeGateApplication.Create([], new Dictionary<string, string?>
        {
            ["ServeGate:Port"] = "0",
            ["ServeGate:Models:0:Id"] = BaseModel,
            ["ServeGate:Models:0:Path"] = basePath,
            ["ServeGate:Models:1:Id"] = InstructModel,
            ["ServeGate:Models:1:Path"] = instructPath,
            ["ServeGate:Worker:Parallel"] = "4",
            ["ServeGate:Worker:ContextLength"] = "512",
            ["ServeGate:Metering:DatabasePath"] = Path.Combine(directory, "usage.db"),
            ["ServeGate:Gateway:KeyStorePath"] = Path.Combine(directory, "keys.db"),
            ["ServeGate:Gateway:AdminKey"] = AdminKey,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await app.StartAsync();
        var gateway = new DashboardGateway(dataDirectory is null ? directory : null, app, new Uri(app.Urls.First()));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await gateway.Http.GetAsync(new Uri("/ready", UriKind.Relative))).IsSuccessStatusCode)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The gateway did not become ready within 60 s.");
            }

            await Task.Delay(100);
        }

        return gateway;
    }

    /// <summary>The official OpenAI client against this gateway, with <paramref name="apiKey"/> (any text in open local mode).</summary>
    public OpenAIClient OpenAi(string apiKey = "local") =>
        new(new ApiKeyCredential(apiKey), new OpenAIClientOptions { Endpoint = new Uri(BaseAddress, "/v1") });

    /// <summary>Creates an API key of <paramref name="team"/> through the admin API and returns its secret.</summary>
    public async Task<string> CreateKeyAsync(string name, string team)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/admin/keys", UriKind.Relative))
        {
            Content = JsonContent.Create(new { name, team }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync());
        return body!["key"]!.GetValue<string>();
    }

    /// <summary>A GET of the gateway's JSON API with an optional key.</summary>
    public async Task<JsonNode> GetJsonAsync(string pathAndQuery, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(pathAndQuery, UriKind.Relative));
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    /// <summary>Waits (bounded) until the ledger holds at least <paramref name="count"/> records.</summary>
    public async Task WaitForUsageAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await UsageStore.QueryAsync(new UsageQuery { Limit = 100_000 }, CancellationToken.None)).Count < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Fewer than {count} usage records after 30 s.");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownDirectory is null)
        {
            return;
        }

        try
        {
            Directory.Delete(_ownDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
