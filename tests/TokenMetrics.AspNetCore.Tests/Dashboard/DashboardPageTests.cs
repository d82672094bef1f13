using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;

namespace TokenMetrics.AspNetCore.Tests.Dashboard;

/// <summary>The dashboard pages and assets as the server sends them: routes, content types, caching, security headers and
/// HTML-encoding of everything the server writes into a page.</summary>
public sealed partial class DashboardPageTests : IAsyncLifetime
{
    private DashboardTestHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await DashboardTestHost.StartAsync();
        _client = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    [Theory]
    [InlineData("/tokenmetrics/", "overview")]
    [InlineData("/tokenmetrics", "overview")]
    [InlineData("/tokenmetrics/sessions", "sessions")]
    [InlineData("/tokenmetrics/sessions/abc", "session")]
    [InlineData("/tokenmetrics/settings", "settings")]
    [InlineData("/tokenmetrics/login", "login")]
    public async Task Each_page_is_html_with_strict_security_headers(string path, string page)
    {
        using var response = await _client.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"data-page=\"{page}\"", html, StringComparison.Ordinal);
        Assert.Contains("data-base=\"/tokenmetrics\"", html, StringComparison.Ordinal);
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_have_no_inline_script_style_or_event_handler()
    {
        foreach (var path in new[] { "/tokenmetrics/", "/tokenmetrics/sessions", "/tokenmetrics/sessions/x", "/tokenmetrics/settings", "/tokenmetrics/login" })
        {
            var html = await _client.GetStringAsync(path);
            var scripts = ScriptTag().Matches(html);
            Assert.NotEmpty(scripts);
            Assert.All(scripts, m => Assert.Contains(" src=\"/tokenmetrics/assets/", m.Value, StringComparison.Ordinal));
            Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotMatch(InlineAttribute(), html);
        }
    }

    [Fact]
    public async Task Every_asset_a_page_references_is_embedded_and_served_with_its_type_and_a_long_cache()
    {
        var html = await _client.GetStringAsync("/tokenmetrics/");
        var urls = AssetUrl().Matches(html).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Equal(["charts.js", "dashboard.css", "dashboard.js", "icon.svg"], urls.Select(u => u.Split('?')[0].Split('/')[^1]).Distinct().Order());

        var assembly = typeof(TokenMetricsEndpointOptions).Assembly;
        foreach (var url in urls)
        {
            using var response = await _client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var name = url.Split('?')[0].Split('/')[^1];
            var expectedType = Path.GetExtension(name) switch { ".js" => "text/javascript", ".css" => "text/css", _ => "image/svg+xml" };
            Assert.Equal(expectedType, response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("immutable", response.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal(Embedded(assembly, name), await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task An_asset_answers_304_to_its_etag_and_unknown_assets_are_404()
    {
        using var first = await _client.GetAsync("/tokenmetrics/assets/dashboard.js");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("no-cache", first.Headers.CacheControl?.ToString());
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/tokenmetrics/assets/dashboard.js");
        request.Headers.IfNoneMatch.Add(etag);
        using var second = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);

        using var missing = await _client.GetAsync("/tokenmetrics/assets/nope.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var traversal = await _client.GetAsync("/tokenmetrics/assets/..%2F..%2Fappsettings.json");
        Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);
    }

    [Fact]
    public async Task Scripts_never_write_markup_from_data()
    {
        var assembly = typeof(TokenMetricsEndpointOptions).Assembly;
        foreach (var name in new[] { "dashboard.js", "charts.js" })
        {
            var js = System.Text.Encoding.UTF8.GetString(Embedded(assembly, name));
            foreach (var sink in new[] { "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "javascript:" })
            {
                Assert.DoesNotContain(sink, js, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("\"><img src=x onerror=alert(1)>")]
    [InlineData("'><svg onload=alert(1)>")]
    public async Task A_hostile_session_id_in_a_deep_link_is_html_encoded(string id)
    {
        using var response = await _client.GetAsync("/tokenmetrics/sessions/" + Uri.EscapeDataString(id));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(id, html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<svg onload", html, StringComparison.Ordinal);
        Assert.Equal(id, SessionIdAttribute(html));
    }

    [Theory]
    [InlineData("agent:test:session/with?special&chars")]
    [InlineData("plain-id")]
    [InlineData("a/b/c")]
    [InlineData("100% sure #1 ünïcode")]
    public async Task The_deep_link_serves_the_session_page_for_the_exact_id(string id)
    {
        using var response = await _client.GetAsync("/tokenmetrics/sessions/" + Uri.EscapeDataString(id));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("data-page=\"session\"", html, StringComparison.Ordinal);
        Assert.Equal(id, SessionIdAttribute(html));
    }

    [Fact]
    public async Task A_deep_link_with_a_broken_escape_still_serves_the_page()
    {
        // "%E0%A4%A" is a cut UTF-8 escape: the page still comes (the id as the route gives it), never a server error.
        using var response = await _client.GetAsync("/tokenmetrics/sessions/abc%E0%A4%A");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("data-page=\"session\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_base_path_includes_the_path_base_and_a_custom_prefix()
    {
        await using var host = await DashboardTestHost.StartAsync("/ops/tm", pathBase: "/app");
        using var client = host.CreateClient();
        var html = await client.GetStringAsync("/app/ops/tm/sessions/" + Uri.EscapeDataString("x/y"));

        Assert.Contains("data-base=\"/app/ops/tm\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/app/ops/tm/settings\"", html, StringComparison.Ordinal);
        Assert.Contains("src=\"/app/ops/tm/assets/dashboard.js?v=", html, StringComparison.Ordinal);
        Assert.Equal("x/y", SessionIdAttribute(html));
    }

    [Fact]
    public async Task Pages_carry_the_refresh_interval_and_an_antiforgery_token_for_writes()
    {
        using var response = await _client.GetAsync("/tokenmetrics/settings");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Contains("data-refresh-seconds=\"30\"", html, StringComparison.Ordinal);
        Assert.Contains("data-csrf-header=\"X-TokenMetrics-CSRF\"", html, StringComparison.Ordinal);
        Assert.Matches("data-csrf-token=\"[^\"]{20,}\"", html);
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", "/tokenmetrics/")]
    [InlineData("?returnUrl=%2Ftokenmetrics%2Fsessions%3Fsort%3Dcost", "/tokenmetrics/sessions?sort=cost")]
    [InlineData("?returnUrl=https%3A%2F%2Fevil.example%2F", "/tokenmetrics/")]
    [InlineData("?returnUrl=%2F%2Fevil.example%2F", "/tokenmetrics/")]
    [InlineData("?returnUrl=%2F%5Cevil.example", "/tokenmetrics/")]
    [InlineData("?returnUrl=%2Felsewhere", "/tokenmetrics/")]
    public async Task The_login_form_posts_the_token_with_antiforgery_and_a_local_return_url(string query, string expectedReturn)
    {
        var html = await _client.GetStringAsync("/tokenmetrics/login" + query);

        Assert.Contains("<form method=\"post\" action=\"/tokenmetrics/login\"", html, StringComparison.Ordinal);
        Assert.Matches("name=\"__RequestVerificationToken\" value=\"[^\"]{20,}\"", html);
        Assert.Contains("name=\"token\"", html, StringComparison.Ordinal);
        var returnUrl = Regex.Match(html, "name=\"returnUrl\" value=\"([^\"]*)\"").Groups[1].Value;
        Assert.Equal(expectedReturn, WebUtility.HtmlDecode(returnUrl));
        Assert.Contains("data-testid=\"login-error\" hidden", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_login_page_shows_the_error_after_a_failed_sign_in()
    {
        var html = await _client.GetStringAsync("/tokenmetrics/login?error=1");
        Assert.Matches("data-testid=\"login-error\" *>", html);
    }

    private static string SessionIdAttribute(string html) =>
        WebUtility.HtmlDecode(Regex.Match(html, "data-session-id=\"([^\"]*)\"").Groups[1].Value);

    private static byte[] Embedded(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream("TokenMetrics.Dashboard.Assets." + name);
        Assert.NotNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    [GeneratedRegex("<script[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex("\\s(on[a-z]+|style)=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineAttribute();

    [GeneratedRegex("(?:src|href)=\"(/tokenmetrics/assets/[^\"]+)\"")]
    private static partial Regex AssetUrl();
}
