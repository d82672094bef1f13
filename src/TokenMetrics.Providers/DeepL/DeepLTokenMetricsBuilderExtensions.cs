using TokenMetrics.Providers;
using TokenMetrics.Providers.DeepL;

namespace TokenMetrics;

/// <summary>Adds the DeepL protocol.</summary>
public static class DeepLTokenMetricsBuilderExtensions
{
    /// <summary>Adds the DeepL protocol (<c>deepl</c>): billed characters, a non-token unit, go to the record's details.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddDeepL(this ITokenMetricsBuilder builder, Action<DeepLProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = ProviderRegistration.Configure(configure);
        return ProviderRegistration.Register(builder, new DeepLProtocol(options));
    }

    /// <summary>Creates the DeepL metering protocol, for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateDeepLProtocol(Action<DeepLProtocolOptions>? configure = null) => new DeepLProtocol(ProviderRegistration.Configure(configure));
}
