using Microsoft.AspNetCore.Http;

namespace TokenMetrics;

/// <summary>Options of the endpoints mapped by <c>MapTokenMetrics()</c>: the query API, reports, settings and the dashboard.</summary>
/// <remarks>Registered and validated at start-up by <c>services.AddTokenMetricsEndpoints(o =&gt; ...)</c>.</remarks>
public sealed class TokenMetricsEndpointOptions
{
    /// <summary>The request header that carries the antiforgery token on settings changes made from a browser (token from
    /// <c>GET {prefix}/api/antiforgery</c>).</summary>
    public const string CsrfHeaderName = "X-TokenMetrics-CSRF";

    /// <summary>The role <see cref="TokenMetricsPolicies.Admin"/> requires by default, and the role the built-in token sign-in gives.</summary>
    public const string DefaultAdminRole = "TokenMetrics.Admin";

    /// <summary>Gets or sets a value indicating whether the endpoints are served without authorization. Off by default; turning it
    /// on logs a warning at start-up. Only for a dashboard reachable by its operators alone (loopback, a private network).</summary>
    /// <remarks>Applies to every endpoint, settings changes included (they still need the antiforgery header from a browser).</remarks>
    public bool AllowAnonymous { get; set; }

    /// <summary>Gets or sets the largest page a list endpoint returns (sessions, groups); larger requests are capped. Default 200 (1 to 10,000).</summary>
    public int MaxPageSize { get; set; } = 200;

    /// <summary>Gets or sets the longest time range a query may cover; longer ranges are refused with 400. Default 400 days.</summary>
    public TimeSpan MaxRange { get; set; } = TimeSpan.FromDays(400);

    /// <summary>Gets or sets how often the dashboard refreshes its numbers. Default 30 seconds; <see cref="TimeSpan.Zero"/> turns it off.</summary>
    public TimeSpan DashboardRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the role the default <see cref="TokenMetricsPolicies.Admin"/> policy requires. Default <see cref="DefaultAdminRole"/>.</summary>
    public string AdminRole { get; set; } = DefaultAdminRole;

    /// <summary>Gets or sets the tenant of a request (for example a claim): when set, every query of a caller who does not satisfy
    /// <see cref="TokenMetricsPolicies.Admin"/> is restricted to records whose consumer is that tenant, whatever the query asks;
    /// a non-admin caller without a tenant (the function returns <see langword="null"/>) is refused with 403. Default: none (no scoping).</summary>
    /// <remarks>Called once per request; an exception it throws fails that request with 500 (fail closed, never unscoped).</remarks>
    public Func<HttpContext, string?>? TenantResolver { get; set; }
}
