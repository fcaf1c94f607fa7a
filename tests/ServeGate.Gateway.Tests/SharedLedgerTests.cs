using System.Net;
using Microsoft.Extensions.Options;
using ServeGate.Ledger;
using ServeGate.Tests.Common;

namespace ServeGate.Gateway.Tests;

/// <summary>
/// Two gateways writing one usage ledger in a real PostgreSQL server (ServeGate:Metering:Store=Postgres): each writes
/// the records of the requests it served, and either one reads the same totals.
/// </summary>
public sealed class SharedLedgerTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Usage_TwoGatewaysOnOnePostgresLedger_BothReadTheSameTotals()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ServeGate:Metering:Store"] = "Postgres",
            ["ServeGate:Metering:Postgres"] = await postgres.CreateDatabaseAsync(),
            ["ServeGate:Metering:FlushInterval"] = "00:00:00",
        };
        await using var a = await GatewayHost.StartAsync(settings);
        await using var b = await GatewayHost.StartAsync(settings);
        var since = DateTimeOffset.UtcNow.AddMinutes(-1);
        var requestIds = new List<string>();
        long completionTokens = 0;
        foreach (var (gateway, n) in new[] { (a, 3), (b, 2) })
        {
            for (var i = 0; i < n; i++)
            {
                using var response = await gateway.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt = "Hello", max_tokens = 2 + i });
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                requestIds.Add(response.Headers.GetValues("x-request-id").Single());
                completionTokens += (long)GatewayHost.Parse(await response.Content.ReadAsStringAsync())!["usage"]!["completion_tokens"]!;
            }
        }

        // Each gateway's writer appends the records of the requests it served.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((a.UsageWriter.Written, b.UsageWriter.Written) != (3, 2) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal((3L, 2L), (a.UsageWriter.Written, b.UsageWriter.Written));
        var recordsOnA = await a.UsageStore.QueryAsync(new UsageQuery(), CancellationToken.None);
        var recordsOnB = await b.UsageStore.QueryAsync(new UsageQuery(), CancellationToken.None);
        var query = new UsageAggregateQuery { Start = since, End = DateTimeOffset.UtcNow.AddMinutes(1), BucketWidth = TimeSpan.FromDays(1), GroupBy = UsageGrouping.Model };
        var totalsOnA = await a.UsageStore.AggregateAsync(query, CancellationToken.None);
        var totalsOnB = await b.UsageStore.AggregateAsync(query, CancellationToken.None);

        Assert.Equal(requestIds.Order(), recordsOnA.Select(r => r.RequestId).Order());
        Assert.Equal(requestIds.Order(), recordsOnB.Select(r => r.RequestId).Order());
        Assert.Equal(totalsOnA, totalsOnB);
        var total = Assert.Single(totalsOnA);
        Assert.Equal(GatewayHost.BaseModel, total.Model);
        Assert.Equal(5, total.Requests);
        Assert.Equal(completionTokens, total.OutputTokens);
    }

    [Fact]
    public async Task Start_PostgresStoreWithoutConnectionString_FailsListingEveryError()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["ServeGate:Metering:Store"] = "Postgres",
            ["ServeGate:Metering:BatchSize"] = "0",
        }));

        Assert.Contains(error.Failures, f => f.Contains("ServeGate:Metering:Postgres", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("ServeGate:Metering:BatchSize", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_PostgresConnectionStringWithoutHost_IsRefused()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["ServeGate:Metering:Store"] = "Postgres",
            ["ServeGate:Metering:Postgres"] = "Database=servegate;Username=postgres",
        }));

        Assert.Contains(error.Failures, f => f.Contains("names no Host", StringComparison.Ordinal));
    }
}
