using TokenMetrics.Providers;
using TokenMetrics.Providers.OpenAI;

namespace TokenMetrics;

/// <summary>Adds the OpenAI protocol, which also meters Azure OpenAI and OpenAI-compatible servers.</summary>
/// <remarks>It matches any host by path: register the vendor-specific protocols first.</remarks>
public static class OpenAITokenMetricsBuilderExtensions
{
    /// <summary>Adds the OpenAI protocol: Chat Completions, Responses, Completions and Embeddings, streamed and not.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddOpenAI(this ITokenMetricsBuilder builder, Action<OpenAIProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return ProviderRegistration.Register(builder, new OpenAIProtocol(ProviderRegistration.Configure(configure)));
    }

    /// <summary>Creates the OpenAI protocol for use without dependency injection (<c>new TokenMetricsHandler(recorder, [protocol])</c>).</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateOpenAIProtocol(Action<OpenAIProtocolOptions>? configure = null) =>
        new OpenAIProtocol(ProviderRegistration.Configure(configure));
}
