namespace TokenMetrics;

/// <summary>The authorization policies of the TokenMetrics endpoints mapped by <c>MapTokenMetrics()</c>.</summary>
/// <remarks><c>AddTokenMetricsEndpoints()</c> registers both with defaults (<see cref="Read"/>: an authenticated user; <see cref="Admin"/>:
/// an authenticated user in the role <see cref="TokenMetricsEndpointOptions.AdminRole"/>) unless the app registers its own policy under
/// the same name, which then wins wherever it is registered.</remarks>
public static class TokenMetricsPolicies
{
    /// <summary>The policy every TokenMetrics endpoint requires: the dashboard, the query API, reports, settings reads, the scrape.</summary>
    public const string Read = "TokenMetrics.Read";

    /// <summary>The policy settings changes require, on top of <see cref="Read"/>.</summary>
    public const string Admin = "TokenMetrics.Admin";
}
