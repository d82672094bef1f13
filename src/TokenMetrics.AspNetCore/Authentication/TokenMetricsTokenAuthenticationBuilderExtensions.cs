using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TokenMetrics;
using TokenMetrics.AspNetCore.Authentication;

namespace Microsoft.AspNetCore.Authentication;

/// <summary>Adds the built-in token sign-in of the TokenMetrics endpoints.</summary>
public static class TokenMetricsTokenAuthenticationBuilderExtensions
{
    /// <summary>Adds the <see cref="TokenMetricsTokenDefaults.AuthenticationScheme"/> scheme, for apps without their own authentication:
    /// API clients send <c>Authorization: Bearer &lt;token&gt;</c>; browsers sign in once on <c>{prefix}/login</c> (or through a
    /// one-time link from <see cref="TokenMetricsSignInLinks"/>) and then carry an HttpOnly, SameSite=Strict cookie. Whoever knows the
    /// token is an administrator of the TokenMetrics endpoints; the default <see cref="TokenMetricsPolicies"/> authenticate with
    /// this scheme once it is registered.</summary>
    /// <param name="builder">The authentication builder (<c>services.AddAuthentication(...)</c>).</param>
    /// <param name="configure">Sets <see cref="TokenMetricsTokenOptions.Token"/> (required, checked at start-up).</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <example><code>
    /// builder.Services.AddAuthentication(TokenMetricsTokenDefaults.AuthenticationScheme)
    ///     .AddTokenMetricsToken(o =&gt; o.Token = builder.Configuration["TokenMetrics:ApiToken"]);
    /// </code></example>
    public static AuthenticationBuilder AddTokenMetricsToken(this AuthenticationBuilder builder, Action<TokenMetricsTokenOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        _ = builder.Services.AddOptions<TokenMetricsTokenOptions>(TokenMetricsTokenDefaults.AuthenticationScheme)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Token), "TokenMetricsTokenOptions.Token must be set (a long random secret).")
            .Validate(o => o.CookieLifetime > TimeSpan.Zero && o.LinkLifetime > TimeSpan.Zero && !string.IsNullOrWhiteSpace(o.CookieName), "TokenMetricsTokenOptions: CookieName must be set, CookieLifetime and LinkLifetime must be above zero.")
            .ValidateOnStart();
        _ = builder.AddScheme<TokenMetricsTokenOptions, TokenMetricsTokenHandler>(TokenMetricsTokenDefaults.AuthenticationScheme, "TokenMetrics token", configure);
        _ = builder.AddCookie(TokenMetricsTokenDefaults.CookieScheme);
        _ = builder.Services.AddOptions<CookieAuthenticationOptions>(TokenMetricsTokenDefaults.CookieScheme)
            .Configure<IOptionsMonitor<TokenMetricsTokenOptions>>((cookie, token) =>
            {
                var options = token.Get(TokenMetricsTokenDefaults.AuthenticationScheme);
                cookie.Cookie.Name = options.CookieName;
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.Cookie.IsEssential = true;
                cookie.ExpireTimeSpan = options.CookieLifetime;
                cookie.SlidingExpiration = true;

                // The token scheme decides between 401 and the login page; the cookie scheme itself never redirects.
                cookie.Events.OnRedirectToLogin = c => { c.Response.StatusCode = StatusCodes.Status401Unauthorized; return System.Threading.Tasks.Task.CompletedTask; };
                cookie.Events.OnRedirectToAccessDenied = c => { c.Response.StatusCode = StatusCodes.Status403Forbidden; return System.Threading.Tasks.Task.CompletedTask; };
            });
        builder.Services.TryAddSingleton<TokenMetricsSignInLinks>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        return builder;
    }
}
