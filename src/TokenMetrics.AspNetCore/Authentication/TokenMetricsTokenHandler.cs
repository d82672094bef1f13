using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using TokenMetrics.AspNetCore.Endpoints;

namespace TokenMetrics.AspNetCore.Authentication;

/// <summary>The <see cref="TokenMetricsTokenDefaults.AuthenticationScheme"/> handler: <c>Authorization: Bearer &lt;token&gt;</c> (compared
/// in fixed time), else the sign-in cookie. A challenge answers 401 to API requests and redirects pages to the login page.</summary>
internal sealed class TokenMetricsTokenHandler(IOptionsMonitor<TokenMetricsTokenOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<TokenMetricsTokenOptions>(options, logger, encoder)
{
    /// <summary>Compares a presented token with the configured one in time independent of where they differ (hashing first makes
    /// the lengths equal too).</summary>
    public static bool Matches(string? presented, string? expected)
    {
        if (string.IsNullOrEmpty(presented) || string.IsNullOrEmpty(expected))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
    }

    /// <summary>The principal of a caller who knows the token: an administrator of the TokenMetrics endpoints.</summary>
    public static ClaimsPrincipal CreatePrincipal(HttpContext context, string authenticationType)
    {
        var role = context.RequestServices.GetService<IOptions<TokenMetricsEndpointOptions>>()?.Value.AdminRole ?? TokenMetricsEndpointOptions.DefaultAdminRole;
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, "tokenmetrics-token"), new Claim(ClaimTypes.Name, "TokenMetrics token"), new Claim(ClaimTypes.Role, role)],
            authenticationType,
            ClaimTypes.Name,
            ClaimTypes.Role);
        return new ClaimsPrincipal(identity);
    }

    /// <inheritdoc/>
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length > 0)
        {
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return AuthenticateResult.NoResult(); // another scheme's credentials
            }

            return Matches(header["Bearer ".Length..].Trim(), Options.Token)
                ? AuthenticateResult.Success(new AuthenticationTicket(CreatePrincipal(Context, Scheme.Name), Scheme.Name))
                : AuthenticateResult.Fail("The bearer token is not the TokenMetrics token.");
        }

        var cookie = await Context.AuthenticateAsync(TokenMetricsTokenDefaults.CookieScheme).ConfigureAwait(false);
        return cookie.Succeeded && cookie.Principal is { } principal
            ? AuthenticateResult.Success(new AuthenticationTicket(principal, cookie.Properties, Scheme.Name))
            : AuthenticateResult.NoResult();
    }

    /// <inheritdoc/>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var marker = Context.GetEndpoint()?.Metadata.GetMetadata<TokenMetricsEndpointMetadata>();
        if (marker is null || marker.IsApi(Request.Path) || !HttpMethods.IsGet(Request.Method))
        {
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Response.Headers.Append(HeaderNames.WWWAuthenticate, "Bearer");
            return Task.CompletedTask;
        }

        var returnUrl = Request.PathBase.Add(Request.Path).Value + Request.QueryString.Value;
        Response.Redirect(Request.PathBase.Add(marker.Prefix).Value + "/login?returnUrl=" + Uri.EscapeDataString(returnUrl));
        return Task.CompletedTask;
    }
}
