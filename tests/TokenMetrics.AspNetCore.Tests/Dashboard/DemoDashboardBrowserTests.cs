using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace TokenMetrics.AspNetCore.Tests.Dashboard;

/// <summary>The issue's real-browser test: headless Debian chromium drives the dashboard of the running demo sample (its own
/// process, real API, real SQLite store, background load) and checks it against the API called with the printed token.</summary>
public sealed class DemoDashboardBrowserTests
{
    private const int Attempts = 10;

    [ChromiumFact]
    public async Task The_demo_dashboard_signs_in_matches_the_api_opens_a_deep_link_and_changes_a_setting()
    {
        await using var demo = await DemoProcess.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(demo.DashboardUrl), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", demo.Token);
        await using var browser = await DashboardBrowser.LaunchAsync();
        var problems = new List<string>();

        // Sign in through the one-time link: it lands on the overview.
        var page = await browser.NewPageAsync(demo.RootUrl, problems);
        await page.GotoAsync(demo.SignInLink);
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(demo.DashboardUrl) + "$"));

        // Overview cards = GET api/overview for the same window. The load keeps writing records, each stamped when its call
        // started, so a window ending "now" keeps filling for a few seconds; the page is opened on a fixed window that ended
        // a minute ago (?from&to, the dashboard's shareable window) and compared again if a late record still landed in it.
        var to = DateTimeOffset.UtcNow.AddMinutes(-1);
        var window = $"?from={Uri.EscapeDataString(to.AddDays(-1).ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}";
        var mismatch = "";
        long tokens = 0;
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var pageResponse = await page.RunAndWaitForResponseAsync(
                () => page.GotoAsync(demo.DashboardUrl + window), r => r.Url.Contains("/api/overview", StringComparison.Ordinal));
            await DashboardBrowser.WaitForLoadsAsync(page);
            using var api = JsonDocument.Parse(await http.GetStringAsync("api/overview" + new Uri(pageResponse.Url).Query));
            tokens = api.RootElement.GetProperty("totals").GetProperty("totalTokens").GetInt64();
            mismatch = await CardMismatchAsync(page, api.RootElement.GetProperty("totals"));
            if (mismatch.Length == 0)
            {
                break;
            }
        }

        Assert.True(tokens > 0, "The demo's overview window has no tokens: nothing to compare.");
        Assert.True(mismatch.Length == 0, "Overview cards differ from GET api/overview: " + mismatch);
        await Expect(page.Locator("[data-testid=chart-tokens-time] svg")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-testid=chart-tokens-model] svg")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-testid=top-session-row] a").First).ToBeVisibleAsync();
        await page.GotoAsync(demo.DashboardUrl);
        await DashboardBrowser.WaitForLoadsAsync(page);
        await DashboardBrowser.ScreenshotAsync(page, "demo-overview");
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Dark });
        await DashboardBrowser.ScreenshotAsync(page, "demo-overview-dark");
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Light });

        // A session drill-down through its deep link (id URL-encoded), preferring an id with characters that need it.
        using var sessions = JsonDocument.Parse(await http.GetStringAsync("api/sessions?sort=cost&limit=50"));
        var ids = sessions.RootElement.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("sessionId").GetString()!).ToList();
        Assert.NotEmpty(ids);
        var id = ids.OrderByDescending(i => i.Count(c => !char.IsAsciiLetterOrDigit(c) && c != '-')).First();
        var rounds = -1;
        var shown = -2;
        for (var attempt = 0; attempt < Attempts && rounds != shown; attempt++)
        {
            await page.GotoAsync(demo.DashboardUrl + "sessions/" + Uri.EscapeDataString(id));
            await DashboardBrowser.WaitForLoadsAsync(page);
            await Expect(page.Locator("[data-testid=session-id]")).ToHaveTextAsync(id);
            await Expect(page.Locator("[data-testid=round-row]").First).ToBeVisibleAsync();
            shown = await page.Locator("[data-testid=round-row]").CountAsync();
            using var detail = JsonDocument.Parse(await http.GetStringAsync("api/sessions/" + Uri.EscapeDataString(id)));
            rounds = detail.RootElement.GetProperty("rounds").GetArrayLength();
        }

        Assert.Equal(rounds, shown);
        await DashboardBrowser.ScreenshotAsync(page, "demo-session");

        await page.GotoAsync(demo.DashboardUrl + "sessions");
        await DashboardBrowser.WaitForLoadsAsync(page);
        await Expect(page.Locator("[data-testid=session-row]").First).ToBeVisibleAsync();
        await DashboardBrowser.ScreenshotAsync(page, "demo-sessions");

        // Change a setting on the settings page; GET api/settings shows it applied under the version the page shows.
        using var before = JsonDocument.Parse(await http.GetStringAsync("api/settings"));
        var version = before.RootElement.GetProperty("version").GetInt64();
        var sampling = before.RootElement.GetProperty("current").GetProperty("samplingRatio").GetDouble() == 1 ? 0.9 : 1;
        await page.GotoAsync(demo.DashboardUrl + "settings");
        await DashboardBrowser.WaitForLoadsAsync(page);
        await Expect(page.Locator("[data-testid=settings-version]")).ToHaveTextAsync(version.ToString(CultureInfo.InvariantCulture));
        await page.FillAsync("[data-testid=setting-sampling]", sampling.ToString(CultureInfo.InvariantCulture));
        await page.FillAsync("[data-testid=setting-reason]", "browser test");
        await page.ClickAsync("[data-testid=settings-save]");
        var next = (version + 1).ToString(CultureInfo.InvariantCulture);
        await Expect(page.Locator("[data-testid=settings-result]")).ToHaveTextAsync($"Saved: now version {next}.");
        await Expect(page.Locator("[data-testid=settings-version]")).ToHaveTextAsync(next);
        using (var after = JsonDocument.Parse(await http.GetStringAsync("api/settings")))
        {
            Assert.Equal(version + 1, after.RootElement.GetProperty("version").GetInt64());
            Assert.Equal(sampling, after.RootElement.GetProperty("current").GetProperty("samplingRatio").GetDouble());
        }

        await DashboardBrowser.ScreenshotAsync(page, "demo-settings");

        // An invalid value: the server's validation errors are shown and nothing changes.
        await page.FillAsync("[data-testid=setting-sampling]", "2");
        await page.ClickAsync("[data-testid=settings-save]");
        await Expect(page.Locator("[data-testid=settings-errors] li").First).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=settings-result]")).ToHaveTextAsync("Not saved.");
        using (var unchanged = JsonDocument.Parse(await http.GetStringAsync("api/settings")))
        {
            Assert.Equal(version + 1, unchanged.RootElement.GetProperty("version").GetInt64());
        }

        await DashboardBrowser.ScreenshotAsync(page, "demo-settings-invalid");

        // A second browser signs in on the login page: a wrong token first (error shown), then the printed one.
        var fresh = await browser.NewPageAsync(demo.RootUrl, problems);
        await fresh.GotoAsync(demo.DashboardUrl + "sessions");
        await Expect(fresh).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login\\?"));
        await fresh.FillAsync("[data-testid=login-token]", "not-the-token-0000");
        await fresh.ClickAsync("[data-testid=login-submit]");
        await Expect(fresh.Locator("[data-testid=login-error]")).ToBeVisibleAsync();
        await DashboardBrowser.ScreenshotAsync(fresh, "demo-login");
        await fresh.FillAsync("[data-testid=login-token]", demo.Token);
        await fresh.ClickAsync("[data-testid=login-submit]");
        await Expect(fresh).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/tokenmetrics/sessions$"));
        await Expect(fresh.Locator("[data-testid=session-row]").First).ToBeVisibleAsync();

        Assert.Empty(problems);
    }

    /// <summary>Compares the cards' raw values (data-value) and shown text with the API totals; empty when they agree.</summary>
    private static async Task<string> CardMismatchAsync(IPage page, JsonElement totals)
    {
        var differences = new List<string>();
        var tokens = totals.GetProperty("totalTokens").GetInt64();
        var calls = totals.GetProperty("calls").GetInt64();
        var share = totals.GetProperty("estimatedShare").GetDouble();
        await Compare("card-tokens", tokens.ToString(CultureInfo.InvariantCulture), tokens.ToString("N0", CultureInfo.GetCultureInfo("en-US")));
        await Compare("card-calls", calls.ToString(CultureInfo.InvariantCulture), calls.ToString("N0", CultureInfo.GetCultureInfo("en-US")));
        var shownShare = await page.Locator("#card-estimated-share").GetAttributeAsync("data-value");
        if (double.Parse(shownShare!, CultureInfo.InvariantCulture) != share)
        {
            differences.Add($"estimated share {shownShare} vs {share}");
        }

        var apiCost = totals.GetProperty("cost").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
        var pageCost = JsonSerializer.Deserialize<Dictionary<string, double>>(await page.Locator("#card-cost").GetAttributeAsync("data-value") ?? "{}")!;
        if (!apiCost.OrderBy(p => p.Key).SequenceEqual(pageCost.OrderBy(p => p.Key)))
        {
            differences.Add($"cost {JsonSerializer.Serialize(pageCost)} vs {JsonSerializer.Serialize(apiCost)}");
        }

        return string.Join("; ", differences);

        async Task Compare(string id, string value, string text)
        {
            var card = page.Locator("#" + id);
            var shownValue = await card.GetAttributeAsync("data-value");
            var shownText = await card.TextContentAsync();
            if (shownValue != value || shownText != text)
            {
                differences.Add($"{id} '{shownText}' ({shownValue}) vs API {value}");
            }
        }
    }
}
