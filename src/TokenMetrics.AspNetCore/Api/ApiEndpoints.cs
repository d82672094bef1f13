using Microsoft.AspNetCore.Routing;

namespace TokenMetrics.AspNetCore.Api;

/// <summary>The JSON API under <c>{prefix}/api</c>.</summary>
internal static class ApiEndpoints
{
    public static void Map(RouteGroupBuilder group, TokenMetricsEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(options);
    }
}
