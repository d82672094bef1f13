using Microsoft.AspNetCore.Authentication;

namespace TokenMetrics;

/// <summary>Options of the built-in token sign-in (<c>AddTokenMetricsToken()</c>), for apps without their own authentication.</summary>
public sealed class TokenMetricsTokenOptions : AuthenticationSchemeOptions
{
    /// <summary>Gets or sets the access token: API clients send <c>Authorization: Bearer &lt;token&gt;</c>, browsers enter it on the
    /// login page once. Required; use a long random value (for example 32 random bytes, base64url) and keep it secret.</summary>
    public string? Token { get; set; }

    /// <summary>Gets or sets the name of the sign-in cookie. Default <c>.TokenMetrics.Session</c>.</summary>
    public string CookieName { get; set; } = ".TokenMetrics.Session";

    /// <summary>Gets or sets how long a browser stays signed in without activity. Default 8 hours.</summary>
    public TimeSpan CookieLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Gets or sets how long a one-time sign-in link (<see cref="TokenMetricsSignInLinks"/>) stays valid. Default 10 minutes.</summary>
    public TimeSpan LinkLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        if (string.IsNullOrWhiteSpace(Token))
        {
            throw new InvalidOperationException("TokenMetricsTokenOptions.Token must be set (a long random secret).");
        }

        if (CookieLifetime <= TimeSpan.Zero || LinkLifetime <= TimeSpan.Zero || string.IsNullOrWhiteSpace(CookieName))
        {
            throw new InvalidOperationException("TokenMetricsTokenOptions: CookieName must be set, CookieLifetime and LinkLifetime must be above zero.");
        }
    }
}
