namespace TokenMetrics;

/// <summary>Names of the built-in token sign-in (<c>AddTokenMetricsToken()</c>).</summary>
public static class TokenMetricsTokenDefaults
{
    /// <summary>The authentication scheme: a bearer token or the sign-in cookie.</summary>
    public const string AuthenticationScheme = "TokenMetricsToken";

    /// <summary>The cookie scheme behind it, which keeps a browser signed in after the login form or a one-time link.</summary>
    public const string CookieScheme = "TokenMetricsToken.Cookie";
}
