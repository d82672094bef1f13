using Microsoft.AspNetCore.Routing;
using TokenMetrics;
using TokenMetrics.AspNetCore.Api;
using TokenMetrics.AspNetCore.Dashboard;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the TokenMetrics query API, reports, settings and dashboard.</summary>
public static class TokenMetricsEndpointRouteBuilderExtensions
{
    /// <summary>Maps the TokenMetrics endpoints under <paramref name="prefix"/>: the dashboard at its root, the API under <c>api/</c>.</summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="prefix">The route prefix.</param>
    /// <returns>The route group, to add conventions to every TokenMetrics endpoint.</returns>
    public static RouteGroupBuilder MapTokenMetrics(this IEndpointRouteBuilder endpoints, string prefix = "/tokenmetrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var options = new TokenMetricsEndpointOptions();
        var group = endpoints.MapGroup(prefix);
        ApiEndpoints.Map(group, options);
        DashboardEndpoints.Map(group, options);
        return group;
    }
}
