using TokenMetrics.Providers;
using TokenMetrics.Providers.Gemini;

namespace TokenMetrics;

/// <summary>Adds the Google Gemini / Vertex AI protocol and the <c>gcp.gemini</c> rewriter (<see cref="TokenMetricsHandlerOptions.RewriteTo"/> = <c>gcp.gemini</c>).</summary>
public static class GeminiTokenMetricsBuilderExtensions
{
    /// <summary>Adds the Gemini protocol (Gemini API <c>gcp.gemini</c> and Vertex AI <c>gcp.vertex_ai</c>: <c>generateContent</c>,
    /// <c>streamGenerateContent</c> as SSE or JSON array) and the <c>gcp.gemini</c> rewriter.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddGemini(this ITokenMetricsBuilder builder, Action<GeminiProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = ProviderRegistration.Configure(configure);
        return ProviderRegistration.Register(builder, new GeminiProtocol(options), new GeminiRewriter(options));
    }

    /// <summary>Creates the Gemini metering protocol, for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateGeminiProtocol(Action<GeminiProtocolOptions>? configure = null) => new GeminiProtocol(ProviderRegistration.Configure(configure));

    /// <summary>Creates the <c>gcp.gemini</c> rewriter (OpenAI Chat Completions to Gemini), for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The rewriter.</returns>
    public static ITokenUsageRewriter CreateGeminiRewriter(Action<GeminiProtocolOptions>? configure = null) => new GeminiRewriter(ProviderRegistration.Configure(configure));
}
