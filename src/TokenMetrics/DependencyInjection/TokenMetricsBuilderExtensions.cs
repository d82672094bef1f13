using System.Diagnostics.CodeAnalysis;
using System.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TokenMetrics;

/// <summary>Adds exporters, protocols and estimators to TokenMetrics.</summary>
public static class TokenMetricsBuilderExtensions
{
    /// <summary>Adds an exporter resolved from the container.</summary>
    /// <typeparam name="TExporter">The exporter type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddExporter<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TExporter>(this ITokenMetricsBuilder builder)
        where TExporter : class, ITokenUsageExporter
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TExporter>();
        builder.Services.AddSingleton<ITokenUsageExporter>(sp => sp.GetRequiredService<TExporter>());
        return builder;
    }

    /// <summary>Adds an exporter built by <paramref name="factory"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="factory">Creates the exporter.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddExporter(this ITokenMetricsBuilder builder, Func<IServiceProvider, ITokenUsageExporter> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.AddSingleton(factory);
        return builder;
    }

    /// <summary>Adds an exporter instance.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="exporter">The exporter.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddExporter(this ITokenMetricsBuilder builder, ITokenUsageExporter exporter)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(exporter);
        builder.Services.AddSingleton(exporter);
        return builder;
    }

    /// <summary>Adds the structured <see cref="ILogger"/> exporter (category <c>TokenMetrics.Usage</c>).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="level">The log level of the entries.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    public static ITokenMetricsBuilder AddLoggingExporter(this ITokenMetricsBuilder builder, LogLevel level = LogLevel.Information)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddExporter(sp => new LoggingTokenUsageExporter(sp.GetRequiredService<ILoggerFactory>().CreateLogger("TokenMetrics.Usage"), level));
    }

    /// <summary>Adds an in-memory exporter (tests, samples) and returns it through <paramref name="exporter"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="exporter">The exporter added.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    public static ITokenMetricsBuilder AddInMemoryExporter(this ITokenMetricsBuilder builder, out InMemoryTokenUsageExporter exporter)
    {
        ArgumentNullException.ThrowIfNull(builder);
        exporter = new InMemoryTokenUsageExporter();
        builder.Services.AddSingleton(exporter);
        return builder.AddExporter(exporter);
    }

    /// <summary>Removes the OpenTelemetry meter exporter that <c>AddTokenMetrics()</c> adds by default.</summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    public static ITokenMetricsBuilder RemoveMeterExporter(this ITokenMetricsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var d in builder.Services.Where(d => d.ServiceType == typeof(ITokenUsageExporter) && d.ImplementationFactory?.Method.DeclaringType == typeof(TokenMetricsServiceCollectionExtensions)).ToList())
        {
            builder.Services.Remove(d);
        }

        return builder;
    }

    /// <summary>Adds a vendor protocol, resolved from the container. Protocols are tried in registration order.</summary>
    /// <typeparam name="TProtocol">The protocol type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    public static ITokenMetricsBuilder AddProtocol<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TProtocol>(this ITokenMetricsBuilder builder)
        where TProtocol : class, ITokenUsageProtocol
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ITokenUsageProtocol, TProtocol>());
        return builder;
    }

    /// <summary>Adds a vendor protocol instance.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="protocol">The protocol.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    public static ITokenMetricsBuilder AddProtocol(this ITokenMetricsBuilder builder, ITokenUsageProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(protocol);
        builder.Services.AddSingleton(protocol);
        return builder;
    }

    /// <summary>Replaces the estimator used when no usage is reported.</summary>
    /// <typeparam name="TEstimator">The estimator type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    public static ITokenMetricsBuilder UseEstimator<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TEstimator>(this ITokenMetricsBuilder builder)
        where TEstimator : class, ITokenEstimator
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<ITokenEstimator, TEstimator>());
        return builder;
    }

    /// <summary>Changes the global settings.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    public static ITokenMetricsBuilder Configure(this ITokenMetricsBuilder builder, Action<TokenMetricsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }

    internal static OptionsBuilder<TokenMetricsOptions> AddCoreOptions(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenMetricsOptions>, Internal.TokenMetricsOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenMetricsOptions>, Internal.TokenMetricsOptionsCustomValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenMetricsHandlerOptions>, Internal.TokenMetricsHandlerOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenMetricsHandlerOptions>, Internal.TokenMetricsHandlerDimensionValidator>());
        return services.AddOptions<TokenMetricsOptions>().ValidateOnStart();
    }
}
