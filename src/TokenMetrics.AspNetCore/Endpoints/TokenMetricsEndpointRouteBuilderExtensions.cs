using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenMetrics;
using TokenMetrics.AspNetCore.Api;
using TokenMetrics.AspNetCore.Authentication;
using TokenMetrics.AspNetCore.Dashboard;
using TokenMetrics.AspNetCore.Endpoints;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the TokenMetrics query API, reports, settings and dashboard.</summary>
public static class TokenMetricsEndpointRouteBuilderExtensions
{
    /// <summary>Maps the TokenMetrics endpoints under <paramref name="prefix"/>: the dashboard at its root, the API under <c>api/</c>,
    /// sign-in under <c>login</c>, and the Prometheus scrape at <c>metrics</c> when <c>AddPrometheusExporter()</c> was called.</summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="prefix">The route prefix: a literal path such as <c>/tokenmetrics</c> (no route parameters).</param>
    /// <returns>The route group, to add conventions to every TokenMetrics endpoint.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoints"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is empty or has route parameters.</exception>
    /// <exception cref="InvalidOperationException"><c>services.AddTokenMetricsEndpoints()</c> was not called.</exception>
    /// <remarks>Secure by default: the group requires <see cref="TokenMetricsPolicies.Read"/>, settings changes also
    /// <see cref="TokenMetricsPolicies.Admin"/> and an antiforgery token; only the sign-in endpoints and static assets are anonymous.
    /// <see cref="TokenMetricsEndpointOptions.AllowAnonymous"/> opts out (logged at start-up). The app must run
    /// <c>UseAuthentication()</c>/<c>UseAuthorization()</c> (minimal hosting adds them when the services are registered).</remarks>
    public static RouteGroupBuilder MapTokenMetrics(this IEndpointRouteBuilder endpoints, string prefix = "/tokenmetrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (prefix.Contains('{', StringComparison.Ordinal) || prefix.Contains('?', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The TokenMetrics prefix must be a literal path such as /tokenmetrics (was '{prefix}').", nameof(prefix));
        }

        var registry = endpoints.ServiceProvider.GetService<TokenMetricsEndpointRegistry>()
            ?? throw new InvalidOperationException("The TokenMetrics endpoint services are not registered: call builder.Services.AddTokenMetricsEndpoints() before MapTokenMetrics().");
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<TokenMetricsEndpointOptions>>().Value;
        var path = new PathString("/" + prefix.Trim('/'));
        if (path.Value == "/")
        {
            path = PathString.Empty;
        }

        registry.Add(path, endpoints);
        var group = endpoints.MapGroup(path.HasValue ? path.Value! : "/");
        _ = group.WithMetadata(new TokenMetricsEndpointMetadata(path));
        _ = options.AllowAnonymous ? group.AllowAnonymous() : group.RequireAuthorization(TokenMetricsPolicies.Read);
        ApiEndpoints.Map(group, options);
        SignInEndpoints.Map(group, options);
        DashboardEndpoints.Map(group, options);
        return group;
    }
}
