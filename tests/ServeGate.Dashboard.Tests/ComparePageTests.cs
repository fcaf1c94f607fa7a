using System.Text.RegularExpressions;
using ServeGate.Ledger;

namespace ServeGate.Dashboard.Tests;

[Collection(DashboardCollection.Name)]
public sealed class ComparePageTests(BrowserFixture browser, SharedGateway shared)
{
    private DashboardGateway Gateway => shared.Gateway;

    [Fact]
    public async Task Compare_Send_StreamsBothModelsIntoTwoColumnsAndMetersEach()
    {
        await using var session = await browser.OpenAsync(Gateway.BaseAddress);
        await session.Page.GotoAsync("/compare");
        await session.WaitReadyAsync();
        var before = await LedgerAsync();

        await session.Page.FillAsync("textarea[name=prompt]", "What is the capital of France?");
        await session.Page.FillAsync("input[name=max_tokens]", "16");
        await session.Page.ClickAsync("button[type=submit]");
        await session.Page.WaitForSelectorAsync("#left[data-state=done]", new() { Timeout = 60_000 });
        await session.Page.WaitForSelectorAsync("#right[data-state=done]", new() { Timeout = 60_000 });

        // Without a demo model served, the page picks a base model on the left and an instruct model on the right.
        Assert.Equal(DashboardGateway.BaseModel, await session.Page.InputValueAsync("select[name=left]"));
        Assert.Equal(DashboardGateway.InstructModel, await session.Page.InputValueAsync("select[name=right]"));
        foreach (var side in new[] { "left", "right" })
        {
            var tokens = Regex.Match(await Figure(session, side, "tokens"), @"^(\d+) / (\d+)$");
            Assert.True(tokens.Success);
            Assert.True(int.Parse(tokens.Groups[1].Value) > 0);
            Assert.InRange(int.Parse(tokens.Groups[2].Value), 1, 16);
            Assert.Matches(@"^\d[\d,]* ms$", await Figure(session, side, "ttft"));
            Assert.Matches(@"tokens/s$", await Figure(session, side, "speed"));
        }

        // Both were sent streaming with the usage chunk, each to its own endpoint, and metered like any request.
        var posts = session.Requests.Where(r => r.Method == "POST").ToList();
        Assert.Contains(posts, r => r.Url.EndsWith("/v1/completions", StringComparison.Ordinal) && r.PostData!.Contains("\"include_usage\":true", StringComparison.Ordinal));
        Assert.Contains(posts, r => r.Url.EndsWith("/v1/chat/completions", StringComparison.Ordinal) && r.PostData!.Contains("\"stream\":true", StringComparison.Ordinal));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<UsageRecord> added;
        do
        {
            added = [.. (await LedgerAsync()).ExceptBy(before.Select(r => r.RequestId), r => r.RequestId)];
            await Task.Delay(50);
        }
        while (added.Count < 2 && DateTime.UtcNow < deadline);
        Assert.Contains(added, r => r.Model == DashboardGateway.BaseModel && r.Stream);
        Assert.Contains(added, r => r.Model == DashboardGateway.InstructModel && r.Stream);
        Assert.Empty(session.PageErrors);
        await session.ScreenshotsAsync("compare");
    }

    [Fact]
    [Trait(Merge.Trait, Merge.EconomicsApi)]
    public async Task Compare_WithEconomics_ShowsBothCostsAsMoney()
    {
        await using var session = await browser.OpenAsync(Gateway.BaseAddress);
        await session.Page.GotoAsync("/compare");
        await session.WaitReadyAsync();

        await session.Page.ClickAsync("button[type=submit]");
        await session.Page.WaitForSelectorAsync("#left[data-state=done]", new() { Timeout = 60_000 });
        await session.Page.WaitForSelectorAsync("#right[data-state=done]", new() { Timeout = 60_000 });

        foreach (var side in new[] { "left", "right" })
        {
            Assert.Matches(@"^\$\d", await Figure(session, side, "inference-cost"));
            Assert.Matches(@"^\$\d", await Figure(session, side, "training-cost"));
        }

        Assert.Empty(session.ConsoleErrors);
    }

    private static Task<string> Figure(BrowserPage session, string side, string name) =>
        session.Page.InnerTextAsync($"#{side} [data-figure={name}]");

    private Task<IReadOnlyList<UsageRecord>> LedgerAsync() =>
        Gateway.UsageStore.QueryAsync(new UsageQuery { Limit = 100_000 }, CancellationToken.None);
}
