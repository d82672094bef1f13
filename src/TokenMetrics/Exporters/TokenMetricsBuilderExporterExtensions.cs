using System.Linq;
using System.Net.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
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

    /// <summary>Adds an InfluxDB exporter (line protocol over HTTP, v1 or v2 API). Call it again for more servers.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the options; validated at start-up (endpoint HTTPS or loopback, credentials per API version).</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <remarks>Uses a named <see cref="HttpClient"/> (<c>TokenMetrics.InfluxDb#n</c>) with redirects off.</remarks>
    public static ITokenMetricsBuilder AddInfluxDbExporter(this ITokenMetricsBuilder builder, Action<InfluxDbExporterOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var name = AddNamedOptions(builder, "TokenMetrics.InfluxDb#", configure, static o => o.Validate());
        return builder.AddExporter(sp => new InfluxDbTokenUsageExporter(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(name),
            sp.GetRequiredService<IOptionsMonitor<InfluxDbExporterOptions>>().Get(name),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILogger<InfluxDbTokenUsageExporter>>()));
    }

    /// <summary>Adds a webhook exporter: batches of records as JSON, signed with HMAC-SHA256 (see <see cref="TokenMetricsWebhook"/>).
    /// Call it again for more receivers.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the options; validated at start-up (endpoint HTTPS or loopback, secret of 16+ characters).</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <remarks>Uses a named <see cref="HttpClient"/> (<c>TokenMetrics.Webhook#n</c>) with redirects off.</remarks>
    public static ITokenMetricsBuilder AddWebhookExporter(this ITokenMetricsBuilder builder, Action<WebhookExporterOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var name = AddNamedOptions(builder, "TokenMetrics.Webhook#", configure, static o => o.Validate());
        return builder.AddExporter(sp => new WebhookTokenUsageExporter(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(name),
            sp.GetRequiredService<IOptionsMonitor<WebhookExporterOptions>>().Get(name),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILogger<WebhookTokenUsageExporter>>()));
    }

    /// <summary>Adds an ai_log JSONL file exporter (Higress-compatible field names, size-based rotation, owner-only files).
    /// Call it again for more files.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the options; validated at start-up (an absolute directory is required).</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    public static ITokenMetricsBuilder AddAiLogExporter(this ITokenMetricsBuilder builder, Action<AiLogExporterOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var name = "TokenMetrics.AiLog#" + builder.Services.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Services.AddOptions<AiLogExporterOptions>(name).Configure(configure).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AiLogExporterOptions>>(new ExporterOptionsValidator<AiLogExporterOptions>(name, static o => o.Validate()));
        return builder.AddExporter(sp => new AiLogFileExporter(sp.GetRequiredService<IOptionsMonitor<AiLogExporterOptions>>().Get(name)));
    }

    private static string AddNamedOptions<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(ITokenMetricsBuilder builder, string prefix, Action<TOptions> configure, Func<TOptions, System.Collections.Generic.List<string>> validate)
        where TOptions : class
    {
        // One name per call: several exporters of a kind each get their own options and HttpClient.
        var name = prefix + builder.Services.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Services.AddOptions<TOptions>(name).Configure(configure).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TOptions>>(new ExporterOptionsValidator<TOptions>(name, validate));
        builder.Services.AddHttpClient(name).ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler { AllowAutoRedirect = false });
        return name;
    }
}
