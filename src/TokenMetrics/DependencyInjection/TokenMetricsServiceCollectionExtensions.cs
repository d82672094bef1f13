using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TokenMetrics;
using TokenMetrics.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers TokenMetrics in a service collection.</summary>
public static class TokenMetricsServiceCollectionExtensions
{
    /// <summary>Adds TokenMetrics: the <see cref="TokenUsageRecorder"/>, the <see cref="TokenMetricsSettingsService"/> (runtime settings,
    /// following configuration reloads), the OpenTelemetry meter exporter, flush on host shutdown, and options validated at start-up. Calling it again only applies more configuration.</summary>
    /// <param name="services">The services.</param>
    /// <returns>A builder for exporters and protocols.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddTokenMetrics(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new TokenMetricsBuilder(services);
        if (services.Contains(MarkerDescriptor))
        {
            return builder;
        }

        services.Add(MarkerDescriptor);
        _ = TokenMetricsBuilderExtensions.AddCoreOptions(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ITokenEstimator>(TiktokenTokenEstimator.Instance);
        services.TryAddSingleton(sp =>
        {
            var recorder = new TokenUsageRecorder(
                sp.GetRequiredService<IOptions<TokenMetricsOptions>>().Value,
                sp.GetServices<ITokenUsageExporter>(),
                sp.GetRequiredService<ITokenEstimator>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<ILoggerFactory>(),
                sp.GetService<IMeterFactory>());

            // Resolved at the first budget check only: a shared store (Redis) connects when budgets are in use, not before.
            recorder.Budgets.UseStore(sp.GetRequiredService<ITokenUsageBudgetStore>);
            return recorder;
        });
        services.TryAddSingleton<ITokenUsageBudgetStore>(sp => new TokenUsageInProcessBudgetStore(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ITokenUsageExporter>(CreateMeterExporter);
        services.TryAddSingleton(TokenMetricsSettingsService.Create);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TokenMetricsHostedService>());
        return builder;
    }

    /// <summary>Adds TokenMetrics and configures its global settings.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Changes the options.</param>
    /// <returns>A builder for exporters and protocols.</returns>
    public static ITokenMetricsBuilder AddTokenMetrics(this IServiceCollection services, Action<TokenMetricsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = services.AddTokenMetrics();
        services.Configure(configure);
        return builder;
    }

    /// <summary>Adds TokenMetrics with its global settings bound from configuration (for example the <c>TokenMetrics</c> section).</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration section.</param>
    /// <returns>A builder for exporters and protocols.</returns>
    public static ITokenMetricsBuilder AddTokenMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = services.AddTokenMetrics();
        services.AddOptions<TokenMetricsOptions>().Bind(configuration)
            .Configure(o => PricingConfiguration.BindPrices(configuration.GetSection(nameof(TokenMetricsOptions.Pricing)), o.Pricing));
        return builder;
    }

    // A static method (not a lambda) so RemoveMeterExporter can recognise this registration.
    private static ITokenUsageExporter CreateMeterExporter(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<TokenMetricsOptions>>().Value;
        return new MeterTokenUsageExporter(options.MeterName, sp.GetService<IMeterFactory>(), options.MetricLabels);
    }

    private static readonly ServiceDescriptor MarkerDescriptor = ServiceDescriptor.Singleton<TokenMetricsMarker, TokenMetricsMarker>();
}
