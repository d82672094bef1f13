using System.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>Adds the built-in dependency-free exporters: Prometheus, InfluxDB, webhook and ai_log files.</summary>
public static class TokenMetricsBuilderExporterExtensions
{
    /// <summary>Adds the Prometheus aggregator (<see cref="TokenMetricsPrometheus"/>, a singleton) and the exporter that feeds it.
    /// Expose it with <c>app.MapTokenMetricsPrometheus()</c> (TokenMetrics.AspNetCore) or <see cref="TokenMetricsPrometheus.WriteAsync"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the options; validated at start-up.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    public static ITokenMetricsBuilder AddPrometheusExporter(this ITokenMetricsBuilder builder, Action<PrometheusExporterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<PrometheusExporterOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PrometheusExporterOptions>>(new ExporterOptionsValidator<PrometheusExporterOptions>(null, static o => o.Validate())));
        builder.Services.TryAddSingleton(sp => new TokenMetricsPrometheus(sp.GetRequiredService<IOptions<PrometheusExporterOptions>>().Value));
        if (!builder.Services.Any(d => d.ServiceType == typeof(PrometheusTokenUsageExporter)))
        {
            builder.Services.AddSingleton(sp => new PrometheusTokenUsageExporter(sp.GetRequiredService<TokenMetricsPrometheus>()));
            builder.AddExporter(sp => sp.GetRequiredService<PrometheusTokenUsageExporter>());
        }

        return builder;
    }
}
