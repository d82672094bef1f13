using Microsoft.Playwright;

namespace TokenMetrics.AspNetCore.Tests.Dashboard;

/// <summary>Headless Debian chromium under Playwright, plus the folder for the screenshots the tests keep as artifacts.</summary>
internal sealed class DashboardBrowser : IAsyncDisposable
{
    private DashboardBrowser(IPlaywright playwright, IBrowser browser)
    {
        Playwright = playwright;
        Browser = browser;
    }

    public IPlaywright Playwright { get; }

    public IBrowser Browser { get; }

    /// <summary>Gets the folder of the screenshots: <c>artifacts/dashboard</c> under the test output folder.</summary>
    public static string ArtifactsDirectory { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts", "dashboard")).FullName;

    public static async Task<DashboardBrowser> LaunchAsync()
    {
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.ChromiumPath,
            Headless = true,
            // Tests run as root in containers, where chromium's sandbox cannot start.
            Args = ["--no-sandbox"],
            Timeout = 60_000,
        });
        return new DashboardBrowser(playwright, browser);
    }

    public async Task<IPage> NewPageAsync(string baseUrl, List<string> problems)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Locale = "en-US",
            TimezoneId = "UTC",
            ColorScheme = ColorScheme.Light,
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        // A script error, a CSP violation or an alert() from injected markup is a failure of the page, collected here.
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.Contains("Failed to load resource", StringComparison.Ordinal))
            {
                problems.Add("console: " + message.Text);
            }
        };
        page.PageError += (_, error) => problems.Add("page error: " + error);
        page.Dialog += (_, dialog) =>
        {
            problems.Add("dialog: " + dialog.Message);
            _ = dialog.DismissAsync();
        };
        return page;
    }

    /// <summary>Waits until the page's scripts finished <paramref name="count"/> loads of their data (body data-loaded).</summary>
    public static Task WaitForLoadsAsync(IPage page, int count = 1) =>
        page.WaitForFunctionAsync($"() => Number(document.body.dataset.loaded || 0) >= {count}", null, new PageWaitForFunctionOptions { Timeout = 30_000 });

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsDirectory, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
    }
}
