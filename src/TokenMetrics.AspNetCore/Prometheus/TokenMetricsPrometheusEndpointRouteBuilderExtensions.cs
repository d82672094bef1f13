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
    /// <returns>A builder for the endpoint, for example to call <c>RequireAuthorization()</c> or <c>RequireHost()</c> on it.</returns>
    /// <exception cref="InvalidOperationException"><c>AddPrometheusExporter()</c> was not called.</exception>
    /// <remarks>The endpoint is anonymous unless you add authorization: metrics name models and, with
    /// <see cref="PrometheusExporterOptions.IncludeConsumer"/>, consumers. Restrict it to the scraper (authorization, a separate
    /// port with <c>RequireHost</c>, or the network).</remarks>
    public static IEndpointConventionBuilder MapTokenMetricsPrometheus(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        var metrics = endpoints.ServiceProvider.GetService<TokenMetricsPrometheus>()
            ?? throw new InvalidOperationException("TokenMetricsPrometheus is not registered: call services.AddTokenMetrics().AddPrometheusExporter() first.");
        return endpoints.MapGet(pattern, (RequestDelegate)(context => WriteAsync(context, metrics)))
            .WithDisplayName("TokenMetrics Prometheus scrape");
    }

    private static Task WriteAsync(HttpContext context, TokenMetricsPrometheus metrics)
    {
        context.Response.ContentType = TokenMetricsPrometheus.ContentType;
        context.Response.Headers.CacheControl = "no-store";
        return metrics.WriteAsync(context.Response.Body, context.RequestAborted);
    }
}
