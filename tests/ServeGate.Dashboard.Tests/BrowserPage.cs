using Microsoft.Playwright;

namespace ServeGate.Dashboard.Tests;

/// <summary>One page in its own browser context, with what the page said on its console and every request it made.</summary>
public sealed class BrowserPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;

    public BrowserPage(IBrowserContext context, IPage page, Uri baseAddress)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                ConsoleErrors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => PageErrors.Add(error);
        page.Request += (_, request) => Requests.Add(request);
        BaseAddress = baseAddress;
    }

    public IPage Page { get; }

    public Uri BaseAddress { get; }

    public List<string> ConsoleErrors { get; } = [];

    public List<string> PageErrors { get; } = [];

    public List<IRequest> Requests { get; } = [];

    /// <summary>Waits until the page says it has drawn (body[data-state=ready]).</summary>
    public Task WaitReadyAsync() =>
        Page.WaitForSelectorAsync("body[data-state=ready]", new PageWaitForSelectorOptions { Timeout = 30_000 });

    /// <summary>Full-page screenshots at 1280x800 and at a phone's 390x844, as test artifacts; the viewport is restored.</summary>
    public async Task ScreenshotsAsync(string name)
    {
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, $"{name}-1280x800.png"), FullPage = true });
        await Page.SetViewportSizeAsync(390, 844);
        await Page.WaitForTimeoutAsync(300); // the charts redraw at the new width
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, $"{name}-390x844.png"), FullPage = true });
        await Page.SetViewportSizeAsync(1280, 800);
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
