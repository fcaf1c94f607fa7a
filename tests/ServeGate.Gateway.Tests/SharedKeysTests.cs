using System.Net;
using ServeGate.Redis;
using ServeGate.Tests.Common;

namespace ServeGate.Gateway.Tests;

/// <summary>
/// API keys shared by two gateway replicas through a real redis-server: a key created on one works on the other, and a
/// key revoked on one is refused by the other from the moment the DELETE returns.
/// </summary>
public sealed class SharedKeysTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private Dictionary<string, string?> Settings(string prefix) => new()
    {
        ["ServeGate:Gateway:Limits:Store"] = "Redis",
        ["ServeGate:Gateway:Limits:Redis"] = redis.Configuration,
        ["ServeGate:Gateway:Limits:KeyPrefix"] = prefix,
    };

    internal static async Task<(string Id, string Key)> CreateKeyAsync(GatewayHost gateway, string team)
    {
        using var response = await gateway.SendAsync(HttpMethod.Post, "/admin/keys", null, new { name = "replicated", team });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = GatewayHost.Parse(await response.Content.ReadAsStringAsync())!;
        return ((string)body["id"]!, (string)body["key"]!);
    }

    [Fact]
    public async Task Key_CreatedOnOneReplica_WorksOnTheOtherAndRevocationIsImmediateOnBoth()
    {
        var prefix = "test:" + Guid.NewGuid().ToString("N") + ":";
        await using var a = await GatewayHost.StartAsync(Settings(prefix));
        await using var b = await GatewayHost.StartAsync(Settings(prefix));

        using (var open = await b.SendAsync(HttpMethod.Get, "/v1/models", null))
        {
            Assert.Equal(HttpStatusCode.OK, open.StatusCode); // no key anywhere yet: open local mode
        }

        var (id, key) = await CreateKeyAsync(a, "shared");

        using (var anonymous = await b.SendAsync(HttpMethod.Get, "/v1/models", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode); // b learned at once that keys exist
        }

        using (var onB = await b.SendAsync(HttpMethod.Post, "/v1/completions", key, new { model = GatewayHost.BaseModel, prompt = "Hi", max_tokens = 1 }))
        {
            await HttpAssert.StatusAsync(HttpStatusCode.OK, onB);
        }

        using (var listed = await b.SendAsync(HttpMethod.Get, "/admin/keys", null))
        {
            var body = await listed.Content.ReadAsStringAsync();
            Assert.Contains(id, body, StringComparison.Ordinal);
            Assert.DoesNotContain(key, body, StringComparison.Ordinal);
        }

        using (var revoke = await a.SendAsync(HttpMethod.Delete, "/admin/keys/" + id, null))
        {
            await HttpAssert.StatusAsync(HttpStatusCode.NoContent, revoke);
        }

        // No wait, no retry: the very next request on the other replica is refused.
        using (var afterOnB = await b.SendAsync(HttpMethod.Get, "/v1/models", key))
        {
            await HttpAssert.StatusAsync(HttpStatusCode.Unauthorized, afterOnB);
        }

        using (var afterOnA = await a.SendAsync(HttpMethod.Get, "/v1/models", key))
        {
            await HttpAssert.StatusAsync(HttpStatusCode.Unauthorized, afterOnA);
        }

        using (var again = await b.SendAsync(HttpMethod.Delete, "/admin/keys/" + id, null))
        {
            await HttpAssert.StatusAsync(HttpStatusCode.NotFound, again);
        }

        using (var listedAfter = await b.SendAsync(HttpMethod.Get, "/admin/keys", null))
        {
            Assert.DoesNotContain(id, await listedAfter.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var stillClosed = await b.SendAsync(HttpMethod.Get, "/v1/models", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, stillClosed.StatusCode); // revoking the last key does not reopen
        }
    }

    [Fact]
    public async Task Directory_AddFindRevokeList_AgainstRealRedis()
    {
        using var connection = RedisConnection.Connect(redis.Configuration, TimeSpan.FromSeconds(2));
        var directory = new RedisKeyDirectory(connection, "test:" + Guid.NewGuid().ToString("N") + ":");

        Assert.False(await directory.AnyAsync());
        Assert.True(await directory.AddAsync("key_1", "AA", "{\"one\":1}"));
        Assert.False(await directory.AddAsync("key_1", "BB", "{}")); // id taken
        Assert.False(await directory.AddAsync("key_2", "AA", "{}")); // hash taken
        Assert.True(await directory.AddAsync("key_2", "CC", "{\"two\":2}"));

        Assert.Equal("{\"one\":1}", await directory.FindAsync("AA"));
        Assert.Null(await directory.FindAsync("BB"));
        Assert.Equal(2, (await directory.ListAsync()).Count);

        Assert.True(await directory.RevokeAsync("key_1", 1));
        Assert.False(await directory.RevokeAsync("key_1", 2));
        Assert.False(await directory.RevokeAsync("key_9", 2));
        Assert.Null(await directory.FindAsync("AA"));
        Assert.Equal(["{\"two\":2}"], await directory.ListAsync());
        Assert.True(await directory.AnyAsync());
    }
}
