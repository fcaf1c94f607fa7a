using System.Text.Json;
using Microsoft.Playwright;

namespace ServeGate.Dashboard.Tests;

/// <summary>
/// Times the dashboard's first render in the browser: from navigation start to <c>body[data-state=ready]</c> (seen by a
/// MutationObserver installed before the page's scripts), with the Navigation Timing and every fetch the page made.
/// </summary>
public static class DashboardLoad
{
    // Runs in every document before its scripts: records performance.now() (ms since navigation start) at ready.
    private const string ReadyObserver = """
        new MutationObserver(() => {
          if (window.__servegateReadyAt === undefined && document.body && document.body.dataset.state === 'ready') {
            window.__servegateReadyAt = performance.now();
          }
        }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-state'] });
        """;

    private const string ReadTimings = """
        () => {
          const nav = performance.getEntriesByType('navigation')[0];
          return JSON.stringify({
            readyMs: window.__servegateReadyAt,
            responseEndMs: nav.responseEnd,
            domContentLoadedMs: nav.domContentLoadedEventEnd,
            loadEventMs: nav.loadEventEnd,
            fetches: performance.getEntriesByType('resource').filter((r) => r.initiatorType === 'fetch').map((r) => ({
              url: r.name, startMs: r.startTime, durationMs: r.duration, waitMs: r.responseStart - r.requestStart })),
          });
        }
        """;

    /// <summary>
    /// Opens /dashboard in a new browser context (cold browser cache) as the admin (the whole organization's ledger, as
    /// a finance reader sees it) and times it.
    /// </summary>
    public static async Task<(BrowserPage Session, DashboardLoadTiming Timing)> OpenAsync(BrowserFixture browser, Uri baseAddress)
    {
        var session = await browser.OpenAsync(baseAddress);
        await session.Page.AddInitScriptAsync(ReadyObserver);
        await session.Page.AddInitScriptAsync($"sessionStorage.setItem('servegate.apiKey', '{DashboardGateway.AdminKey}');");
        await session.Page.GotoAsync("/dashboard");
        return (session, await ReadAsync(session));
    }

    /// <summary>Reloads the page (warm: browser cache and gateway both warm) and times it.</summary>
    public static async Task<DashboardLoadTiming> ReloadAsync(BrowserPage session)
    {
        await session.Page.ReloadAsync();
        return await ReadAsync(session);
    }

    private static async Task<DashboardLoadTiming> ReadAsync(BrowserPage session)
    {
        await session.Page.WaitForSelectorAsync("body[data-state=ready]", new PageWaitForSelectorOptions { Timeout = 120_000 });
        var json = await session.Page.EvaluateAsync<string>(ReadTimings);
        return JsonSerializer.Deserialize<DashboardLoadTiming>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }
}

/// <summary>One timed load: milliseconds since navigation start.</summary>
public sealed record DashboardLoadTiming
{
    public double ReadyMs { get; init; }

    public double ResponseEndMs { get; init; }

    public double DomContentLoadedMs { get; init; }

    public double LoadEventMs { get; init; }

    public IReadOnlyList<DashboardFetch> Fetches { get; init; } = [];

    /// <summary>When the last of the page's fetches ended; from there to <see cref="ReadyMs"/> the page draws.</summary>
    public double LastFetchEndMs => Fetches.Count == 0 ? 0 : Fetches.Max(f => f.StartMs + f.DurationMs);
}

/// <summary>One fetch of the page: its URL, when it started, how long it took, and the wait for its first byte.</summary>
public sealed record DashboardFetch(string Url, double StartMs, double DurationMs, double WaitMs)
{
    /// <summary>The endpoint and its grouping ("/v1/organization/usage/completions group_by=model"), for tables.</summary>
    public string Name
    {
        get
        {
            var uri = new Uri(Url);
            var groups = uri.Query.TrimStart('?').Split('&').Where(p => p.StartsWith("group_by=", StringComparison.Ordinal));
            return string.Join(' ', [uri.AbsolutePath, .. groups]);
        }
    }
}
