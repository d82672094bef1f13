using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TokenMetrics;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the TokenMetrics Prometheus scrape endpoint.</summary>
public static class TokenMetricsPrometheusEndpointRouteBuilderExtensions
{
    /// <summary>Maps <c>GET <paramref name="pattern"/></c> to the Prometheus text exposition (format 0.0.4) of the
    /// <see cref="TokenMetricsPrometheus"/> registered by <c>AddPrometheusExporter()</c>.</summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">The route pattern.</param>
    /// <param name="allowAnonymous">Serve without authorization. Only for an endpoint reachable by the scraper alone (a separate
    /// port, the network); the default requires an authenticated caller.</param>
    /// <returns>A builder for the endpoint, for example to choose a policy with <c>RequireAuthorization("scraper")</c>, to
    /// pin it to a port with <c>RequireHost("*:9464")</c>.</returns>
    /// <exception cref="InvalidOperationException"><c>AddPrometheusExporter()</c> was not called.</exception>
    /// <remarks>Secure by default: the endpoint requires an authenticated caller (the default authorization policy), because
    /// metrics name models and, with <see cref="PrometheusExporterOptions.IncludeConsumer"/>, consumers. Configure the
    /// scraper's credentials (Prometheus <c>authorization</c> or <c>basic_auth</c>), or pass <paramref name="allowAnonymous"/>
    /// when the endpoint is reachable only by the scraper. Without authorization middleware the app fails closed: requests to
    /// it are rejected, never served anonymously.</remarks>
    public static IEndpointConventionBuilder MapTokenMetricsPrometheus(this IEndpointRouteBuilder endpoints, string pattern = "/metrics", bool allowAnonymous = false)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        var metrics = endpoints.ServiceProvider.GetService<TokenMetricsPrometheus>()
            ?? throw new InvalidOperationException("TokenMetricsPrometheus is not registered: call services.AddTokenMetrics().AddPrometheusExporter() first.");
        var endpoint = endpoints.MapGet(pattern, (RequestDelegate)(context => WriteAsync(context, metrics)))
            .WithDisplayName("TokenMetrics Prometheus scrape");
        return allowAnonymous ? endpoint : endpoint.RequireAuthorization();
    }

    internal static Task WriteAsync(HttpContext context, TokenMetricsPrometheus metrics)
    {
        context.Response.ContentType = TokenMetricsPrometheus.ContentType;
        context.Response.Headers.CacheControl = "no-store";
        return metrics.WriteAsync(context.Response.Body, context.RequestAborted);
    }
}
