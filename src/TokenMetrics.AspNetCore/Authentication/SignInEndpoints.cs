using System.Threading.Tasks;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenMetrics.AspNetCore.Api;

namespace TokenMetrics.AspNetCore.Authentication;

/// <summary><c>POST login</c> (the login form), <c>GET login/link?ticket=</c> (one-time link) and <c>POST logout</c> of the built-in
/// token sign-in. Without <c>AddTokenMetricsToken()</c> they answer 404.</summary>
internal static class SignInEndpoints
{
    public static void Map(RouteGroupBuilder group, TokenMetricsEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _ = group.MapPost("/login", (RequestDelegate)LoginAsync).AllowAnonymous().DisableAntiforgery().WithDisplayName("TokenMetrics sign-in");
        _ = group.MapGet("/login/link", (RequestDelegate)LinkAsync).AllowAnonymous().WithDisplayName("TokenMetrics sign-in link");
        _ = group.MapPost("/logout", (RequestDelegate)LogoutAsync).DisableAntiforgery().WithDisplayName("TokenMetrics sign-out");
    }

    private static async Task LoginAsync(HttpContext context)
    {
        if (!await EnabledAsync(context).ConfigureAwait(false))
        {
            return;
        }

        // The form carries the antiforgery field of the login page: a login CSRF cannot sign a victim's browser in.
        if (!context.Request.HasFormContentType)
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Sign in with the login form (application/x-www-form-urlencoded).").ConfigureAwait(false);
            return;
        }

        if (!await Csrf.ValidateAsync(context, allowAuthorizationHeader: false).ConfigureAwait(false))
        {
            return;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var returnUrl = form["returnUrl"].ToString();
        var root = ApiEndpoints.Root(context);
        var token = context.RequestServices.GetRequiredService<IOptionsMonitor<TokenMetricsTokenOptions>>().Get(TokenMetricsTokenDefaults.AuthenticationScheme).Token;
        if (!TokenMetricsTokenHandler.Matches(form["token"].ToString(), token))
        {
            var back = IsLocal(returnUrl) ? "&returnUrl=" + Uri.EscapeDataString(returnUrl) : string.Empty;
            context.Response.Redirect(root.Value + "/login?error=1" + back);
            return;
        }

        await SignInAsync(context).ConfigureAwait(false);
        context.Response.Redirect(IsLocal(returnUrl) ? returnUrl : root.Value + "/");
    }

    private static async Task LinkAsync(HttpContext context)
    {
        if (!await EnabledAsync(context).ConfigureAwait(false))
        {
            return;
        }

        var root = ApiEndpoints.Root(context);
        var links = context.RequestServices.GetRequiredService<TokenMetricsSignInLinks>();
        if (!links.TryRedeem(context.Request.Query["ticket"].ToString()))
        {
            context.Response.Redirect(root.Value + "/login?error=1");
            return;
        }

        await SignInAsync(context).ConfigureAwait(false);
        context.Response.Redirect(root.Value + "/");
    }

    private static async Task LogoutAsync(HttpContext context)
    {
        if (!await EnabledAsync(context).ConfigureAwait(false) || !await Csrf.ValidateAsync(context).ConfigureAwait(false))
        {
            return;
        }

        await context.SignOutAsync(TokenMetricsTokenDefaults.CookieScheme).ConfigureAwait(false);
        context.Response.Redirect(ApiEndpoints.Root(context).Value + "/login");
    }

    private static Task SignInAsync(HttpContext context) => context.SignInAsync(
        TokenMetricsTokenDefaults.CookieScheme,
        TokenMetricsTokenHandler.CreatePrincipal(context, TokenMetricsTokenDefaults.CookieScheme),
        new AuthenticationProperties { IsPersistent = false });

    private static async Task<bool> EnabledAsync(HttpContext context)
    {
        var schemes = context.RequestServices.GetRequiredService<IAuthenticationSchemeProvider>();
        if (await schemes.GetSchemeAsync(TokenMetricsTokenDefaults.AuthenticationScheme).ConfigureAwait(false) is not null)
        {
            return true;
        }

        await ApiHttp.WriteErrorAsync(context, StatusCodes.Status404NotFound, "The built-in token sign-in is not enabled: call services.AddAuthentication().AddTokenMetricsToken(...).").ConfigureAwait(false);
        return false;
    }

    /// <summary>A path on this site (<c>/x</c>), never another origin (<c>//host</c>, <c>/\host</c>, <c>https://...</c>).</summary>
    internal static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.AsSpan().ContainsAny("\r\n\t\0");
}
