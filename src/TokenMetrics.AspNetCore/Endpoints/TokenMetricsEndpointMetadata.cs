using Microsoft.AspNetCore.Http;

namespace TokenMetrics.AspNetCore.Endpoints;

/// <summary>Marks every endpoint of a <c>MapTokenMetrics()</c> group, with the group's prefix: the start-up check finds them by it,
/// the token sign-in challenge builds its login redirect from it.</summary>
internal sealed class TokenMetricsEndpointMetadata(PathString prefix)
{
    public PathString Prefix { get; } = prefix;

    /// <summary>Gets a value indicating whether the request is for the JSON API or the scrape (401 on challenge, never a redirect).</summary>
    public bool IsApi(PathString path) =>
        path.StartsWithSegments(Prefix.Add("/api"), StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(Prefix.Add("/metrics"), StringComparison.OrdinalIgnoreCase);
}
