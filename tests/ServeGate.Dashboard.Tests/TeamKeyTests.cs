using Microsoft.Playwright;

namespace ServeGate.Dashboard.Tests;

/// <summary>The pages with API keys: each test starts a gateway of its own, since a key ends open local mode.</summary>
[Collection(DashboardCollection.Name)]
public sealed class TeamKeyTests(BrowserFixture browser)
{
    [Fact]
    public async Task Dashboard_ApiAnswers401_AsksForKeyKeepsItInSessionAndSendsItAsBearer()
    {
        await using var gateway = await DashboardGateway.StartAsync();
        var key = await gateway.CreateKeyAsync("finance-reader", "finance");
        await using var session = await browser.OpenAsync(gateway.BaseAddress);

        await session.Page.GotoAsync("/dashboard");
        await session.Page.Locator("#key-dialog").WaitForAsync(new() { State = WaitForSelectorState.Visible });
        await session.ScreenshotsAsync("dashboard-key-form");
        var asked = session.Requests.Count;
        await EnterKeyAsync(session, key);
        await session.WaitReadyAsync();

        var after = session.Requests.Skip(asked).Where(r => new Uri(r.Url).AbsolutePath.StartsWith("/v1/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(after);
        foreach (var request in after)
        {
            Assert.Equal($"Bearer {key}", (await request.AllHeadersAsync())["authorization"]);
        }

        Assert.DoesNotContain(session.Requests, r => r.Url.Contains(key, StringComparison.Ordinal));
        Assert.Equal(key, await session.Page.EvaluateAsync<string>("() => sessionStorage.getItem('servegate.apiKey')"));
        Assert.False(await session.Page.Locator("#key-dialog").IsVisibleAsync());
    }

    [Fact]
    [Trait(Merge.Trait, Merge.UsageApi)]
    public async Task Dashboard_TeamKey_SeesOnlyItsTeam()
    {
        await using var gateway = await DashboardGateway.StartAsync();
        var research = await gateway.CreateKeyAsync("research-ci", "research");
        var finance = await gateway.CreateKeyAsync("finance-reader", "finance");
        await Requests.ChatAsync(gateway, 2, research);
        await Requests.ChatAsync(gateway, 1, finance);
        await gateway.WaitForUsageAsync(3);
        await using var session = await browser.OpenAsync(gateway.BaseAddress);

        await session.Page.GotoAsync("/dashboard");
        await EnterKeyAsync(session, finance);
        await session.WaitReadyAsync();
        var expected = await ReportApi.UsageAsync(gateway, bearer: finance);

        Assert.Equal(1, expected.Requests);
        Assert.Equal(expected.Requests, ReportApi.Figure(await session.Page.InnerTextAsync("[data-total=requests]")));
        var teams = await session.Page.EvalOnSelectorAllAsync<string[]>("select[name=team] option", "options => options.map(o => o.value).filter(v => v)");
        Assert.Equal(["finance"], teams);
        Assert.DoesNotContain(session.ConsoleErrors, e => !e.Contains("401", StringComparison.Ordinal));
        await session.ScreenshotsAsync("dashboard-team");
    }

    private static async Task EnterKeyAsync(BrowserPage session, string key)
    {
        await session.Page.Locator("#key-dialog").WaitForAsync(new() { State = WaitForSelectorState.Visible });
        await session.Page.FillAsync("#key-dialog input", key);
        await session.Page.ClickAsync("#key-dialog button[type=submit]");
    }
}
