using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Tests;

/// <summary>API keys: created through the admin API, required once one exists, limited to models, revoked at once.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private const string AdminKey = "test-admin-key";
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(new Dictionary<string, string?> { ["ServeGate:Gateway:AdminKey"] = AdminKey });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, object? body = null, string? adminKey = AdminKey) =>
        _gateway.SendAsync(method, path, adminKey, body);

    private async Task<(string Id, string Key)> CreateKeyAsync(string team, string[]? models = null)
    {
        using var response = await AdminAsync(HttpMethod.Post, "/admin/keys", new { name = "test", team, models });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = GatewayHost.Parse(await response.Content.ReadAsStringAsync())!;
        return ((string)body["id"]!, (string)body["key"]!);
    }

    private static object Completion(string model = GatewayHost.BaseModel) => new { model, prompt = "Hello", max_tokens = 2 };

    [Fact]
    public async Task AdminApi_WithoutAdminKey_Returns401()
    {
        using var none = await AdminAsync(HttpMethod.Get, "/admin/keys", adminKey: null);
        using var wrong = await AdminAsync(HttpMethod.Get, "/admin/keys", adminKey: "nope");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task CreateKey_ShownOnceThenListedWithoutSecret()
    {
        var (id, key) = await CreateKeyAsync("research");

        using var list = await AdminAsync(HttpMethod.Get, "/admin/keys");
        var text = await list.Content.ReadAsStringAsync();
        Assert.StartsWith("sg-", key, StringComparison.Ordinal);
        Assert.Equal(46, key.Length); // "sg-" + 32 bytes in base64url
        Assert.Contains(id, text, StringComparison.Ordinal);
        Assert.DoesNotContain(key, text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"key\"", text, StringComparison.Ordinal);
        var stored = await File.ReadAllBytesAsync(Path.Combine(_gateway.Directory, "keys.db"));
        Assert.DoesNotContain(key, Encoding.Latin1.GetString(stored), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completions_KeysExist_NeedValidKeyAndAreMeteredToIt()
    {
        var (id, key) = await CreateKeyAsync("finance");

        using var missing = await _gateway.PostAsync("/v1/completions", Completion());
        using var wrong = await _gateway.PostAsync("/v1/completions", Completion(), apiKey: "sg-wrong");
        using var models = await _gateway.Http.GetAsync(new Uri("/v1/models", UriKind.Relative));
        using var ok = await _gateway.PostAsync("/v1/completions", Completion(), apiKey: key);
        await ok.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
        Assert.Equal("invalid_api_key", (string?)GatewayHost.Parse(await wrong.Content.ReadAsStringAsync())!["error"]!["code"]);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var records = await _gateway.WaitForUsageAsync(3);
        var record = Assert.Single(records, r => r.RequestId == ok.Headers.GetValues("x-request-id").Single());
        Assert.Equal(id, record.KeyId);
        Assert.Equal("finance", record.Team);
        Assert.Equal(2, records.Count(r => r.HttpStatus == 401 && r.KeyId == "anonymous")); // refused requests are recorded too, without tokens
    }

    [Fact]
    public async Task Completions_ModelNotAllowed_Returns403()
    {
        var (_, key) = await CreateKeyAsync("limited", [GatewayHost.InstructModel]);

        using var response = await _gateway.PostAsync("/v1/completions", Completion(GatewayHost.BaseModel), apiKey: key);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = GatewayHost.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("model_not_allowed", (string?)error["code"]);
        Assert.Equal("model", (string?)error["param"]);
    }

    [Fact]
    public async Task DeleteKey_TakesEffectAtOnce()
    {
        var (id, key) = await CreateKeyAsync("temp");
        using var before = await _gateway.PostAsync("/v1/completions", Completion(), apiKey: key);

        using var deleted = await AdminAsync(HttpMethod.Delete, "/admin/keys/" + id);
        using var after = await _gateway.PostAsync("/v1/completions", Completion(), apiKey: key);
        using var again = await AdminAsync(HttpMethod.Delete, "/admin/keys/" + id);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }
}

public sealed class OpenAccessTests
{
    [Fact]
    public async Task Start_NonLoopbackAddressWithoutKeys_Refuses()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(new Dictionary<string, string?> { ["ServeGate:Host"] = "0.0.0.0" }));

        Assert.Contains("AllowAnonymous", error.Message, StringComparison.Ordinal);
        Assert.Contains("SERVEGATE_ADMIN_KEY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_NonLoopbackAddressWithAdminKeyButNoKeys_StartsRefusingUntilAKeyIsCreated()
    {
        // A container's first start (deploy/): listening on every address, an admin key set, no API key yet.
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["ServeGate:Host"] = "0.0.0.0",
            ["ServeGate:Gateway:AdminKey"] = "deploy-admin-key",
        });
        object completion = new { model = GatewayHost.BaseModel, prompt = "Hello", max_tokens = 2 };

        using var before = await gateway.PostAsync("/v1/completions", completion);
        using var created = await gateway.SendAsync(HttpMethod.Post, "/admin/keys", "deploy-admin-key", new { name = "first", team = "ops" });
        var key = (string)GatewayHost.Parse(await created.Content.ReadAsStringAsync())!["key"]!;
        using var anonymous = await gateway.PostAsync("/v1/completions", completion);
        using var withKey = await gateway.PostAsync("/v1/completions", completion, apiKey: key);

        Assert.Equal(HttpStatusCode.Unauthorized, before.StatusCode);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
    }
}
