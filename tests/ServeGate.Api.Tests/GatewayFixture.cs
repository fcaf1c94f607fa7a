using System.ClientModel;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using OpenAI;
using ServeGate.Gateway;
using ServeGate.Tests.Common;

namespace ServeGate.Api.Tests;

/// <summary>
/// One ServeGate process-in-a-test: real Kestrel on a free loopback port serving a generated tiny base model and its
/// instruct twin, shared by the tests of a collection.
/// </summary>
public class GatewayFixture : IAsyncLifetime
{
    public const string BaseModel = "tiny-base";
    public const string InstructModel = "tiny-instruct";

    private readonly string _directory = Directory.CreateTempSubdirectory("servegate-api-").FullName;
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public OpenAIClient OpenAi { get; private set; } = null!;

    /// <summary>The application's services, for tests that look inside (the scheduler's sequences).</summary>
    public IServiceProvider Services => _app!.Services;

    /// <summary>Settings a derived fixture may change (queue sizes, parallelism).</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings(string basePath, string instructPath) => new Dictionary<string, string?>
    {
        ["ServeGate:Port"] = "0",
        ["ServeGate:Models:0:Id"] = BaseModel,
        ["ServeGate:Models:0:Path"] = basePath,
        ["ServeGate:Models:1:Id"] = InstructModel,
        ["ServeGate:Models:1:Path"] = instructPath,
        ["ServeGate:Worker:Parallel"] = "4",
        ["ServeGate:Worker:ContextLength"] = "512",
        ["ServeGate:MaxRequestBodyBytes"] = "65536",
        // A ledger and key store of the fixture's own: a key created in the machine's default store would end open local mode.
        ["ServeGate:Metering:DatabasePath"] = Path.Combine(_directory, "usage.db"),
        ["ServeGate:Gateway:KeyStorePath"] = Path.Combine(_directory, "keys.db"),
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>A derived fixture's changes to the services before the host starts (a test hook on the options).</summary>
    protected virtual void BeforeStart(IServiceProvider services)
    {
    }

    public async Task InitializeAsync()
    {
        var basePath = await TestModels.GetAsync(TestModel.TinyBase);
        var instructPath = await TestModels.GetAsync(TestModel.TinyInstruct);
        _app = ServeGateApplication.Create([], Settings(basePath, instructPath));
        BeforeStart(_app.Services);
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
        // A response disposed before its end closes the connection, as a client that leaves does; by default HttpClient
        // would read on for up to 2 s (ResponseDrainTimeout) to reuse it, and the server would not see the client go.
        Http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        OpenAi = new OpenAIClient(new ApiKeyCredential("local"), new OpenAIClientOptions { Endpoint = new Uri(BaseAddress, "/v1") });
        await WaitReadyAsync();
    }

    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await Http.GetAsync(new Uri("/ready", UriKind.Relative));
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("ServeGate did not become ready within 60 s: " + await Http.GetStringAsync(new Uri("/ready", UriKind.Relative)));
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
