using TokenMetrics.Providers;
using TokenMetrics.Providers.Ollama;

namespace TokenMetrics;

/// <summary>Adds the Ollama native protocol and the <c>ollama</c> rewriter (<see cref="TokenMetricsHandlerOptions.RewriteTo"/> = <c>ollama</c>).</summary>
public static class OllamaTokenMetricsBuilderExtensions
{
    /// <summary>Adds the Ollama native protocol (<c>ollama</c>) and the <c>ollama</c> rewriter.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddOllama(this ITokenMetricsBuilder builder, Action<OllamaProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = ProviderRegistration.Configure(configure);
        return ProviderRegistration.Register(builder, new OllamaProtocol(options), new OllamaRewriter(options));
    }

    /// <summary>Creates the Ollama native metering protocol, for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateOllamaProtocol(Action<OllamaProtocolOptions>? configure = null) => new OllamaProtocol(ProviderRegistration.Configure(configure));

    /// <summary>Creates the <c>ollama</c> rewriter (OpenAI Chat Completions to Ollama <c>/api/chat</c>), for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The rewriter.</returns>
    public static ITokenUsageRewriter CreateOllamaRewriter(Action<OllamaProtocolOptions>? configure = null) => new OllamaRewriter(ProviderRegistration.Configure(configure));
}
