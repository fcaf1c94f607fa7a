using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace ServeGate.Dashboard.Tests;

[Collection(DashboardCollection.Name)]
public sealed class DashboardPageTests(BrowserFixture browser, SharedGateway shared)
{
    private DashboardGateway Gateway => shared.Gateway;

    [Fact]
    public async Task Dashboard_Load_ServesPageScriptsAndChartLibraryFromTheGatewayWithoutScriptErrors()
    {
        await using var session = await browser.OpenAsync(Gateway.BaseAddress);

        var response = await session.Page.GotoAsync("/dashboard");
        await session.WaitReadyAsync();

        Assert.Equal(200, response!.Status);
        Assert.Empty(session.PageErrors);
        Assert.True(await session.Page.EvaluateAsync<bool>("typeof window.Chart === 'function'"));
        // Everything from the gateway itself (no CDN, no font service), the scripts at their fingerprinted URLs.
        Assert.All(session.Requests, r => Assert.Equal(Gateway.BaseAddress.Authority, new Uri(r.Url).Authority));
        Assert.Contains(session.Requests, r => Regex.IsMatch(r.Url, @"/lib/chart\.js/chart\.umd\.min\.[a-z0-9]+\.js$"));
        Assert.Contains(session.Requests, r => Regex.IsMatch(r.Url, @"/assets/api\.[a-z0-9]+\.js$"));
        Assert.DoesNotContain(session.Requests, r => r.Url.EndsWith("/assets/api.js", StringComparison.Ordinal));
        await session.ScreenshotsAsync("dashboard-load");
    }

    [Fact]
    [Trait(Merge.Trait, Merge.UsageApi)]
    [Trait(Merge.Trait, Merge.EconomicsApi)]
    public async Task Dashboard_Load_NoConsoleErrors()
    {
        await using var session = await browser.OpenAsync(Gateway.BaseAddress);

        await session.Page.GotoAsync("/dashboard");
        await session.WaitReadyAsync();

        Assert.Empty(session.PageErrors);
        Assert.Empty(session.ConsoleErrors);
        Assert.DoesNotContain("error", await session.Page.GetAttributeAsync("#status", "class") ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    [Trait(Merge.Trait, Merge.UsageApi)]
    public async Task Dashboard_AfterRequests_ChartsDrawFromThemAndTotalsEqualUsageApi()
    {
        await using var session = await SeedAndOpenAsync();

        var usage = await ReportApi.UsageAsync(Gateway);
        var spend = await ReportApi.CostsAsync(Gateway);

        Assert.True(usage.Requests >= 3);
        Assert.Equal(usage.Requests, ReportApi.Figure(await Total(session, "requests")));
        Assert.Equal(usage.InputTokens, ReportApi.Figure(await Total(session, "input-tokens")));
        Assert.Equal(usage.OutputTokens, ReportApi.Figure(await Total(session, "output-tokens")));
        Assert.Equal((double)spend, await ChartSum(session, "#spend canvas"), 9);
        Assert.Equal(usage.InputTokens + usage.OutputTokens, await ChartSum(session, "#by-key canvas"));
        Assert.Equal(usage.InputTokens + usage.OutputTokens, await ChartSum(session, "#by-team canvas"));
        Assert.Empty(session.ConsoleErrors);
        await session.ScreenshotsAsync("dashboard-data");
    }

    [Fact]
    [Trait(Merge.Trait, Merge.UsageApi)]
    public async Task Dashboard_ModelFilter_ChangesTotalsAndUrl()
    {
        await using var session = await SeedAndOpenAsync();
        var all = ReportApi.Figure(await Total(session, "requests"));

        await session.Page.SelectOptionAsync("select[name=model]", DashboardGateway.BaseModel);
        await session.Page.WaitForFunctionAsync("() => location.search.includes('model=') && document.body.dataset.state === 'ready'");
        var filtered = ReportApi.Figure(await Total(session, "requests"));
        var expected = await ReportApi.UsageAsync(Gateway, $"&models={DashboardGateway.BaseModel}");

        Assert.Contains($"model={DashboardGateway.BaseModel}", session.Page.Url, StringComparison.Ordinal);
        Assert.Equal(expected.Requests, filtered);
        Assert.NotEqual(all, filtered);
        await session.ScreenshotsAsync("dashboard-filtered");

        // The URL is the view: opened afresh, it shows the same filter and the same figures.
        await session.Page.ReloadAsync();
        await session.WaitReadyAsync();
        Assert.Equal(DashboardGateway.BaseModel, await session.Page.InputValueAsync("select[name=model]"));
        Assert.Equal(filtered, ReportApi.Figure(await Total(session, "requests")));
    }

    /// <summary>Two chats with the instruct model and a completion with the base model, then the dashboard, drawn.</summary>
    private async Task<BrowserPage> SeedAndOpenAsync()
    {
        await Requests.ChatAsync(Gateway, 2);
        await Requests.CompletionAsync(Gateway);
        await Gateway.WaitForUsageAsync(3);
        var session = await browser.OpenAsync(Gateway.BaseAddress);
        await session.Page.GotoAsync("/dashboard");
        await session.WaitReadyAsync();
        return session;
    }

    private static Task<string> Total(BrowserPage session, string name) =>
        session.Page.InnerTextAsync($"[data-total={name}]");

    /// <summary>The sum of every value a chart draws (its datasets as Chart.js holds them).</summary>
    private static Task<double> ChartSum(BrowserPage session, string canvas) =>
        session.Page.EvaluateAsync<double>(
            "selector => Chart.getChart(document.querySelector(selector)).data.datasets.flatMap(d => d.data).reduce((a, b) => a + (b ?? 0), 0)",
            canvas);
}
