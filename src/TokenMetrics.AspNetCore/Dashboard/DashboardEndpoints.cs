using Microsoft.AspNetCore.Routing;

namespace TokenMetrics.AspNetCore.Dashboard;

/// <summary>The dashboard pages and their embedded assets at the group root.</summary>
internal static class DashboardEndpoints
{
    public static void Map(RouteGroupBuilder group, TokenMetricsEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(options);
    }
}
