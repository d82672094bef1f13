using System.Collections.Generic;
using System.Text;
using System.Threading.Tasks;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

using TokenMetrics.AspNetCore.Api;

namespace TokenMetrics.AspNetCore.Dashboard;

/// <summary>The dashboard pages and their embedded assets at the group root.</summary>
/// <remarks>Pages are HTML templates embedded in the package; the server fills in only the base path, the antiforgery token,
/// the refresh interval and (on the session page) the session id, every value HTML-encoded. The data is fetched by the page
/// scripts from the JSON API and written with <c>textContent</c>, so no stored value is ever parsed as HTML.</remarks>
internal static class DashboardEndpoints
{
    // No inline script or style anywhere: the scripts and the stylesheet are asset files under the same origin.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static void Map(RouteGroupBuilder group, TokenMetricsEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(options);

        var refreshSeconds = ((long)Math.Max(0, options.DashboardRefreshInterval.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

        MapPage(group, "/", "overview", "Overview", refreshSeconds);
        MapPage(group, "/sessions", "sessions", "Sessions", refreshSeconds);
        MapPage(group, "/sessions/{**id}", "session", "Session", refreshSeconds);
        MapPage(group, "/settings", "settings", "Settings", refreshSeconds);
        MapPage(group, "/login", "login", "Sign in", refreshSeconds).AllowAnonymous();

        // Static files with no data in them: anonymous, so the login page can be styled before sign-in.
        group.MapGet("/assets/{file}", ServeAsset).AllowAnonymous().ExcludeFromDescription();
    }

    // RequestDelegate handlers: no reflection-built delegates, so the package stays trimming and AOT friendly.
    private static IEndpointConventionBuilder MapPage(RouteGroupBuilder group, string pattern, string page, string title, string refreshSeconds) =>
        group.MapGet(pattern, context => ServePage(context, pattern, page, title, refreshSeconds)).ExcludeFromDescription();

    private static Task ServePage(HttpContext context, string pattern, string page, string title, string refreshSeconds)
    {
        var basePath = BasePath(context, pattern);
        string csrfToken = "", csrfField = "__RequestVerificationToken";
        if (context.RequestServices.GetService<IAntiforgery>() is { } antiforgery)
        {
            var tokens = antiforgery.GetAndStoreTokens(context);
            csrfToken = tokens.RequestToken ?? "";
            csrfField = tokens.FormFieldName;
        }

        string? sessionId = page == "session" ? SessionId(context, basePath) : null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["base"] = basePath,
            ["page"] = page,
            ["title"] = sessionId is null ? title : $"Session {sessionId}",
            ["refresh"] = refreshSeconds,
            ["csrfHeader"] = TokenMetricsEndpointOptions.CsrfHeaderName,
            ["csrfToken"] = csrfToken,
            ["csrfField"] = csrfField,
            ["sessionId"] = sessionId ?? "",
            ["returnUrl"] = page == "login" ? LocalReturnUrl(context.Request.Query["returnUrl"], basePath) : "",
            ["loginError"] = page == "login" && context.Request.Query["error"] == "1" ? "" : "hidden",
        };

        var html = DashboardResources.RenderPage(page, values, HtmlEncoder.Default, name => $"{basePath}/assets/{name}");
        SetSecurityHeaders(context.Response);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync(html, Encoding.UTF8, context.RequestAborted);
    }

    private static Task ServeAsset(HttpContext context)
    {
        var asset = DashboardResources.FindAsset(context.Request.RouteValues["file"] as string ?? "");
        SetSecurityHeaders(context.Response);
        if (asset is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        var etag = $"\"{asset.Hash}\"";
        context.Response.Headers.ETag = etag;
        // A URL with the content hash never changes meaning, so the browser may keep it for a year without asking again.
        context.Response.Headers.CacheControl = context.Request.Query["v"] == asset.Hash
            ? "public, max-age=31536000, immutable"
            : "no-cache";
        if (context.Request.Headers.IfNoneMatch == etag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = asset.Content.Length;
        return context.Response.Body.WriteAsync(asset.Content, context.RequestAborted).AsTask();
    }

    private static void SetSecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.XFrameOptions = "DENY";
    }

    /// <summary>PathBase plus the group prefix, read from the matched endpoint's route pattern minus the page's own pattern.</summary>
    private static string BasePath(HttpContext context, string pattern)
    {
        var raw = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "";
        var prefix = raw.EndsWith(pattern, StringComparison.Ordinal) ? raw[..^pattern.Length] : "";
        return (context.Request.PathBase + new PathString("/" + prefix.Trim('/'))).Value!.TrimEnd('/');
    }

    /// <summary>The session id exactly as the deep link encoded it (read the same way as the API's <c>api/sessions/{id}</c>).</summary>
    private static string SessionId(HttpContext context, string basePath) =>
        SessionIds.FromRequest(context, basePath + "/sessions/")
        ?? (context.Request.RouteValues["id"] as string ?? "").Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    /// <summary>Only a path under this dashboard may be a return URL, so the login form cannot send a user elsewhere.</summary>
    private static string LocalReturnUrl(StringValues value, string basePath)
    {
        var url = value.ToString();
        var local = url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal);
        return local && url.StartsWith(basePath + "/", StringComparison.Ordinal) ? url : basePath + "/";
    }
}
