using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace TokenMetrics.AspNetCore.Tests.Dashboard;

/// <summary>The dashboard pages in a real browser against API answers of the documented shapes (served by the browser's
/// request routing), with hostile strings in every field a page shows: the page logic, HTML-safety, CSP, the deep link,
/// paging and sorting requests and the settings PATCH (CSRF header, changed fields only, validation errors).</summary>
public sealed class DashboardBrowserTests
{
    private const string Hostile = "<script>alert(1)</script>";
    private const string HostileSession = "agent:test:session/with?special&chars<img src=x onerror=alert(2)>";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [ChromiumFact]
    public async Task Pages_render_api_data_as_text_and_drive_the_api_as_documented()
    {
        await using var host = await DashboardTestHost.StartAsync(kestrel: true);
        await using var browser = await DashboardBrowser.LaunchAsync();
        var problems = new List<string>();
        var page = await browser.NewPageAsync(host.RootUrl, problems);
        var api = new FakeApi();
        await page.RouteAsync("**/tokenmetrics/api/**", api.HandleAsync);

        // Overview: the cards show the totals, the charts and tables show the hostile names as text.
        await page.GotoAsync("/tokenmetrics/");
        await DashboardBrowser.WaitForLoadsAsync(page);
        await Expect(page.Locator("#card-tokens")).ToHaveTextAsync("1,234,567");
        await Expect(page.Locator("#card-tokens")).ToHaveAttributeAsync("data-value", "1234567");
        await Expect(page.Locator("#card-calls")).ToHaveTextAsync("321");
        await Expect(page.Locator("#card-cost")).ToHaveTextAsync("$12.35");
        await Expect(page.Locator("#card-estimated-share")).ToHaveTextAsync("12.5%");
        await Expect(page.Locator("[data-testid=card-reported-share]")).ToContainTextAsync("87.5%");
        await Expect(page.Locator("[data-testid=unpriced-note]")).ToContainTextAsync("4 of 321 calls");
        await Expect(page.Locator("[data-testid=chart-tokens-time] svg rect.bar")).ToHaveCountAsync(24);
        await Expect(page.Locator("#error")).ToBeHiddenAsync();
        await Expect(page.Locator("[data-testid=chart-cost-time] svg path.line")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-testid=chart-tokens-model] svg title").First).ToHaveTextAsync("Tokens by model");
        await Expect(page.Locator("[data-testid=chart-tokens-model] table tbody th").Nth(1)).ToHaveTextAsync(Hostile);
        await Expect(page.Locator("[data-testid=top-user-row]").First.Locator("td").First).ToHaveTextAsync(Hostile);
        var topSession = page.Locator("[data-testid=top-session-row] a").First;
        await Expect(topSession).ToHaveTextAsync(HostileSession);
        await AssertNoInjectedMarkupAsync(page);
        await DashboardBrowser.ScreenshotAsync(page, "routed-overview");

        // The range picker keeps its choice in the URL and asks the API for that window.
        var request = await page.RunAndWaitForRequestAsync(() => page.ClickAsync("[data-range='7d']"), r => r.Url.Contains("/api/overview", StringComparison.Ordinal));
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("range=7d"));
        var window = System.Web.HttpUtility.ParseQueryString(new Uri(request.Url).Query);
        Assert.Equal(TimeSpan.FromDays(7), DateTimeOffset.Parse(window["to"]!, null) - DateTimeOffset.Parse(window["from"]!, null));

        // A fixed window in the URL (?from&to) is what the page asks for, with no range button pressed.
        request = await page.RunAndWaitForRequestAsync(
            () => page.GotoAsync("/tokenmetrics/?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&range=7d"), r => r.Url.Contains("/api/overview", StringComparison.Ordinal));
        window = System.Web.HttpUtility.ParseQueryString(new Uri(request.Url).Query);
        Assert.Equal(("2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z"), (window["from"], window["to"]));
        await Expect(page.Locator("[data-range][aria-pressed=true]")).ToHaveCountAsync(0);
        await page.ClickAsync("[data-range='7d']");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/tokenmetrics/\\?range=7d$"));
        await DashboardBrowser.WaitForLoadsAsync(page, 2);
        topSession = page.Locator("[data-testid=top-session-row] a").First;

        // The session link is the deep link with the id URL-encoded; the session page shows the rounds.
        await topSession.ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/tokenmetrics/sessions/.+"));
        // One path segment (every '/', '?', '&' encoded) that decodes to the exact id; the range stays in the query.
        var deepLink = new Uri(page.Url);
        Assert.Equal(4, deepLink.AbsolutePath.Split('/').Length);
        Assert.Equal(HostileSession, Uri.UnescapeDataString(deepLink.AbsolutePath["/tokenmetrics/sessions/".Length..]));
        Assert.Equal("?range=7d", deepLink.Query);
        await DashboardBrowser.WaitForLoadsAsync(page);
        Assert.Equal(HostileSession, Uri.UnescapeDataString(api.LastPath("sessions/")["/tokenmetrics/api/sessions/".Length..]));
        await Expect(page.Locator("[data-testid=session-id]")).ToHaveTextAsync(HostileSession);
        await Expect(page.Locator("[data-testid=round-row]")).ToHaveCountAsync(3);
        await Expect(page.Locator("[data-testid=round-row]").Nth(1).Locator("[data-testid=estimated-badge]")).ToHaveTextAsync("estimated");
        await Expect(page.Locator("[data-testid=round-row] [data-testid=estimated-badge]")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-testid=round-content]")).ToHaveCountAsync(1);
        await page.ClickAsync("[data-testid=round-content] summary");
        await Expect(page.Locator("[data-testid=round-content] pre").First).ToHaveTextAsync("What is " + Hostile + "?");
        await Expect(page.Locator("[data-testid=session-link]")).ToHaveValueAsync(page.Url);
        await AssertNoInjectedMarkupAsync(page);
        await DashboardBrowser.ScreenshotAsync(page, "routed-session");

        // Sessions: one page of 20, "Next" asks for the next offset, the sort goes to the API and into the URL.
        await page.GotoAsync("/tokenmetrics/sessions");
        await DashboardBrowser.WaitForLoadsAsync(page);
        await Expect(page.Locator("[data-testid=session-row]")).ToHaveCountAsync(20);
        Assert.Equal("0", api.LastQuery("sessions")["offset"]);
        await page.ClickAsync("[data-testid=page-next]");
        await Expect(page.Locator("[data-testid=page-info]")).ToHaveTextAsync("21–25");
        Assert.Equal("20", api.LastQuery("sessions")["offset"]);
        await Expect(page.Locator("[data-testid=page-next]")).ToBeDisabledAsync();
        await page.SelectOptionAsync("[data-testid=sessions-sort]", "cost");
        await Expect(page.Locator("[data-testid=page-info]")).ToHaveTextAsync("1–20");
        Assert.Equal("cost", api.LastQuery("sessions")["sort"]);
        Assert.Contains("sort=cost", page.Url, StringComparison.Ordinal);
        await DashboardBrowser.ScreenshotAsync(page, "routed-sessions");

        // Settings: the PATCH carries the CSRF header and only the changed fields; a 400 shows the server's errors as text.
        await page.GotoAsync("/tokenmetrics/settings");
        await DashboardBrowser.WaitForLoadsAsync(page);
        await Expect(page.Locator("[data-testid=settings-version]")).ToHaveTextAsync("7");
        var csrf = await page.Locator("body").GetAttributeAsync("data-csrf-token");
        Assert.False(string.IsNullOrEmpty(csrf));
        await page.FillAsync("[data-testid=setting-sampling]", "0.5");
        await page.UncheckAsync("[data-testid=setting-estimate]");
        await page.FillAsync("[data-testid=setting-reason]", "browser test");
        await page.ClickAsync("[data-testid=settings-save]");
        await Expect(page.Locator("[data-testid=settings-version]")).ToHaveTextAsync("8");
        await Expect(page.Locator("[data-testid=settings-result]")).ToHaveTextAsync("Saved: now version 8.");
        Assert.Equal(csrf, api.PatchCsrf);
        Assert.Equal("""{"estimateMissingUsage":false,"samplingRatio":0.5,"reason":"browser test"}""", api.PatchBody);

        api.RejectNextPatch = true;
        await page.FillAsync("[data-testid=setting-sampling]", "2");
        await page.ClickAsync("[data-testid=settings-save]");
        await Expect(page.Locator("[data-testid=settings-errors] li")).ToHaveTextAsync(["samplingRatio must be between 0 and 1", Hostile]);
        await Expect(page.Locator("[data-testid=settings-version]")).ToHaveTextAsync("8");
        await AssertNoInjectedMarkupAsync(page);
        await DashboardBrowser.ScreenshotAsync(page, "routed-settings");

        Assert.Empty(problems);
    }

    [ChromiumFact]
    public async Task An_expired_sign_in_sends_the_page_to_the_login_page_with_its_return_url()
    {
        await using var host = await DashboardTestHost.StartAsync(kestrel: true);
        await using var browser = await DashboardBrowser.LaunchAsync();
        var page = await browser.NewPageAsync(host.RootUrl, []);
        await page.RouteAsync("**/tokenmetrics/api/**", route => route.FulfillAsync(new RouteFulfillOptions { Status = 401 }));

        await page.GotoAsync("/tokenmetrics/sessions?sort=cost");
        // A retrying check of the address, not a wait for a navigation event: the page's script may already have left for the
        // login page while GotoAsync was still returning (a full-suite run missed that event once).
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/tokenmetrics/login\\?"), new() { Timeout = 60_000 });

        Assert.EndsWith("/tokenmetrics/login?returnUrl=" + Uri.EscapeDataString("/tokenmetrics/sessions?sort=cost"), page.Url, StringComparison.Ordinal);
        await Expect(page.Locator("input[name=returnUrl]")).ToHaveValueAsync("/tokenmetrics/sessions?sort=cost");
        await DashboardBrowser.ScreenshotAsync(page, "routed-login");
    }

    private static async Task AssertNoInjectedMarkupAsync(IPage page)
    {
        // Only the two asset scripts exist, and none of the hostile strings became an element.
        Assert.Equal(2, await page.Locator("script").CountAsync());
        Assert.True(await page.Locator("script").Nth(0).GetAttributeAsync("src") is { } src && src.Contains("/assets/", StringComparison.Ordinal));
        Assert.Equal(0, await page.Locator("img[src=x]").CountAsync());
    }

    /// <summary>Answers the dashboard's API requests with data of the documented JSON shapes and records what was asked.</summary>
    private sealed class FakeApi
    {
        private readonly List<Uri> _requests = [];
        private long _version = 7;
        private double _sampling = 1;
        private bool _estimate = true;

        public bool RejectNextPatch { get; set; }

        public string? PatchCsrf { get; private set; }

        public string? PatchBody { get; private set; }

        public System.Collections.Specialized.NameValueCollection LastQuery(string path) =>
            System.Web.HttpUtility.ParseQueryString(_requests.Last(u => u.AbsolutePath.EndsWith("/api/" + path, StringComparison.Ordinal)).Query);

        public string LastPath(string startsWith) =>
            _requests.Last(u => u.AbsolutePath.Contains("/api/" + startsWith, StringComparison.Ordinal)).AbsolutePath;

        public async Task HandleAsync(IRoute route)
        {
            var request = route.Request;
            var uri = new Uri(request.Url);
            lock (_requests)
            {
                _requests.Add(uri);
            }

            var path = uri.AbsolutePath["/tokenmetrics/api/".Length..];
            object? body;
            var status = 200;
            if (path == "overview")
            {
                body = Overview();
            }
            else if (path == "sessions")
            {
                var offset = int.Parse(System.Web.HttpUtility.ParseQueryString(uri.Query)["offset"] ?? "0", System.Globalization.CultureInfo.InvariantCulture);
                var count = offset == 0 ? 20 : 5;
                body = new { sessions = Enumerable.Range(offset, count).Select(i => Session(i == 0 ? HostileSession : $"session-{i:D3}", i)), offset, limit = 20, hasMore = offset == 0 };
            }
            else if (path.StartsWith("sessions/", StringComparison.Ordinal))
            {
                body = SessionDetail(Uri.UnescapeDataString(path["sessions/".Length..]));
            }
            else if (path == "settings" && request.Method == "PATCH")
            {
                if (RejectNextPatch)
                {
                    RejectNextPatch = false;
                    status = 400;
                    body = new { error = "Invalid settings", errors = new[] { "samplingRatio must be between 0 and 1", Hostile } };
                }
                else
                {
                    PatchCsrf = request.Headers.GetValueOrDefault("x-tokenmetrics-csrf");
                    PatchBody = request.PostData;
                    var patch = JsonNode.Parse(request.PostData!)!;
                    _sampling = patch["samplingRatio"]?.GetValue<double>() ?? _sampling;
                    _estimate = patch["estimateMissingUsage"]?.GetValue<bool>() ?? _estimate;
                    _version++;
                    body = Settings();
                }
            }
            else if (path == "settings")
            {
                body = Settings();
            }
            else
            {
                status = 404;
                body = new { error = "not found" };
            }

            await route.FulfillAsync(new RouteFulfillOptions { Status = status, ContentType = "application/json", Body = JsonSerializer.Serialize(body, Json) });
        }

        private object Settings()
        {
            var current = new { enabled = true, estimateMissingUsage = _estimate, captureContent = false, samplingRatio = _sampling, disabledExporters = Array.Empty<string>() };
            var configured = new { enabled = true, estimateMissingUsage = true, captureContent = false, samplingRatio = 1.0, disabledExporters = Array.Empty<string>() };
            return new { version = _version, current, configured, exporters = new[] { "sqlite", Hostile } };
        }

        private static object Totals(long tokens, decimal cost, long calls) => new
        {
            calls, inputTokens = tokens * 3 / 4, outputTokens = tokens / 4, totalTokens = tokens, cachedInputTokens = tokens / 10,
            cacheWriteInputTokens = 0, reasoningTokens = tokens / 20, estimatedCalls = calls / 8, estimatedTokens = tokens / 8,
            missingCalls = 0, failedCalls = 2, reportedShare = 0.875, estimatedShare = 0.125, averageLatencyMs = 812.5,
            cost = new Dictionary<string, decimal> { ["USD"] = cost }, unpricedCalls = 4,
        };

        private static object Overview()
        {
            var to = DateTimeOffset.UtcNow;
            var start = new DateTimeOffset(to.Year, to.Month, to.Day, to.Hour, 0, 0, TimeSpan.Zero).AddHours(-23);
            return new
            {
                from = to.AddDays(-1), to, bucket = "hour",
                totals = Totals(1_234_567, 12.3456m, 321),
                series = Enumerable.Range(0, 24).Select(h => Merge(new { bucket = start.AddHours(h) }, Totals(20_000 + h * 1_500, 0.2m + h * 0.01m, 10 + h))),
                byModel = new[] { ("gpt-4o", 700_000L, 9.1m), (Hostile, 400_000L, 2.5m), ("claude-sonnet-4", 134_567L, 0.7456m) }
                    .Select(m => Merge(new { key = new Dictionary<string, string> { ["model"] = m.Item1 }, bucket = (string?)null }, Totals(m.Item2, m.Item3, 100))),
                topUsers = new[] { Hostile, "alice", "bob" }
                    .Select((u, i) => Merge(new { key = new Dictionary<string, string> { ["user"] = u }, bucket = (string?)null }, Totals(300_000 - i * 50_000, 5m - i, 90 - i * 10))),
                topSessions = new[] { HostileSession, "support/ticket-42" }.Select(Session),
            };
        }

        private static JsonObject Session(string id, int i) => Merge(
            new
            {
                sessionId = id, createdAt = DateTimeOffset.UtcNow.AddHours(-3), updatedAt = DateTimeOffset.UtcNow.AddMinutes(-i), lastModel = Hostile,
                models = new[] { "gpt-4o", Hostile }, url = "javascript:alert(3)", apiUrl = "javascript:alert(4)",
            },
            Totals(10_000 - i * 10, 0.5m, 3));

        private static object SessionDetail(string id) => new
        {
            session = Session(id, 0),
            rounds = new[]
            {
                Round(0, "reported", null),
                Round(1, "estimated", null),
                Round(2, "reported", new { question = "What is " + Hostile + "?", answer = Hostile, reasoning = (string?)null, toolCalls = new[] { new { name = Hostile, arguments = "{\"q\":\"" + Hostile + "\"}" } } }),
            },
            roundsTruncated = false,
        };

        private static object Round(int index, string source, object? content) => new
        {
            id = Guid.NewGuid(), timestamp = DateTimeOffset.UtcNow.AddMinutes(index - 10), roundIndex = index, operationId = Guid.NewGuid(),
            provider = "openai", operation = "chat", model = Hostile, requestModel = Hostile, streaming = index == 1,
            status = index == 1 ? "abandoned" : "ok", errorType = (string?)null, httpStatus = 200, durationMs = 900.0 + index, timeToFirstChunkMs = index == 1 ? 120.0 : (double?)null,
            inputTokens = 1000L, outputTokens = 200L, totalTokens = 1200L, cachedInputTokens = 100L, cacheWriteInputTokens = 0L, reasoningTokens = 10L,
            source, cost = 0.0123m, currency = "USD", userId = Hostile, consumer = "web", feature = (string?)null, tags = new Dictionary<string, string>(), content,
        };

        private static JsonObject Merge(object head, object totals)
        {
            var result = JsonSerializer.SerializeToNode(head, Json)!.AsObject();
            foreach (var (key, value) in JsonSerializer.SerializeToNode(totals, Json)!.AsObject())
            {
                result[key] = value?.DeepClone();
            }

            return result;
        }
    }
}
