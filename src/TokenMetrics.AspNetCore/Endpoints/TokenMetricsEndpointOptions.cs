namespace TokenMetrics;

/// <summary>Options of the endpoints mapped by <c>MapTokenMetrics()</c>: the query API, reports, settings and the dashboard.</summary>
public sealed class TokenMetricsEndpointOptions
{
    /// <summary>Gets or sets a value indicating whether the endpoints are served without authorization. Off by default; turning it
    /// on logs a warning at start-up. Only for a dashboard reachable by its operators alone (loopback, a private network).</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Gets or sets the largest page a list endpoint returns (sessions, groups); larger requests are capped. Default 200.</summary>
    public int MaxPageSize { get; set; } = 200;

    /// <summary>Gets or sets the longest time range a query may cover; longer ranges are refused with 400. Default 400 days.</summary>
    public TimeSpan MaxRange { get; set; } = TimeSpan.FromDays(400);

    /// <summary>Gets or sets how often the dashboard refreshes its numbers. Default 30 seconds; <see cref="TimeSpan.Zero"/> turns it off.</summary>
    public TimeSpan DashboardRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}
