using TokenMetrics.Providers;
using TokenMetrics.Providers.Cohere;

namespace TokenMetrics;

/// <summary>Adds the Cohere v2 protocol.</summary>
public static class CohereTokenMetricsBuilderExtensions
{
    /// <summary>Adds the Cohere v2 protocol (<c>cohere</c>). Metering only: there is no Cohere rewriter.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddCohere(this ITokenMetricsBuilder builder, Action<CohereProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = ProviderRegistration.Configure(configure);
        return ProviderRegistration.Register(builder, new CohereProtocol(options));
    }

    /// <summary>Creates the Cohere v2 metering protocol, for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateCohereProtocol(Action<CohereProtocolOptions>? configure = null) => new CohereProtocol(ProviderRegistration.Configure(configure));
}
