using Microsoft.Extensions.DependencyInjection;
using TokenMetrics.Providers.Cohere;
using TokenMetrics.Providers.DashScope;
using TokenMetrics.Providers.DeepL;
using TokenMetrics.Providers.Gemini;
using TokenMetrics.Providers.Ollama;

namespace TokenMetrics;

/// <summary>Adds the Google Gemini / Vertex AI, Alibaba DashScope (Qwen), Ollama, Cohere and DeepL protocols, and the rewriters
/// that let an OpenAI Chat Completions client talk to Gemini, DashScope or Ollama by configuration
/// (<see cref="TokenMetricsHandlerOptions.RewriteTo"/> = <c>gcp.gemini</c>, <c>dashscope</c> or <c>ollama</c>).</summary>
public static class GeminiBuilderExtensions
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
        var options = Configure(configure);
        return Register(builder, new GeminiProtocol(options), new GeminiRewriter(options));
    }

    /// <summary>Adds the DashScope native protocol (<c>dashscope</c>) and the <c>dashscope</c> rewriter.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddDashScope(this ITokenMetricsBuilder builder, Action<DashScopeProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Configure(configure);
        return Register(builder, new DashScopeProtocol(options), new DashScopeRewriter(options));
    }

    /// <summary>Adds the Ollama native protocol (<c>ollama</c>) and the <c>ollama</c> rewriter.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddOllama(this ITokenMetricsBuilder builder, Action<OllamaProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Configure(configure);
        return Register(builder, new OllamaProtocol(options), new OllamaRewriter(options));
    }

    /// <summary>Adds the Cohere v2 protocol (<c>cohere</c>). Metering only: there is no Cohere rewriter.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddCohere(this ITokenMetricsBuilder builder, Action<CohereProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return Register(builder, new CohereProtocol(Configure(configure)), null);
    }

    /// <summary>Adds the DeepL protocol (<c>deepl</c>): billed characters, a non-token unit, go to the record's details.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddDeepL(this ITokenMetricsBuilder builder, Action<DeepLProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return Register(builder, new DeepLProtocol(Configure(configure)), null);
    }

    /// <summary>Creates the Gemini metering protocol, for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateGeminiProtocol(Action<GeminiProtocolOptions>? configure = null) => new GeminiProtocol(Configure(configure));

    /// <summary>Creates the <c>gcp.gemini</c> rewriter (OpenAI Chat Completions to Gemini), for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The rewriter.</returns>
    public static ITokenUsageRewriter CreateGeminiRewriter(Action<GeminiProtocolOptions>? configure = null) => new GeminiRewriter(Configure(configure));

    /// <summary>Creates the DashScope native metering protocol, for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateDashScopeProtocol(Action<DashScopeProtocolOptions>? configure = null) => new DashScopeProtocol(Configure(configure));

    /// <summary>Creates the <c>dashscope</c> rewriter (OpenAI Chat Completions to DashScope native), for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The rewriter.</returns>
    public static ITokenUsageRewriter CreateDashScopeRewriter(Action<DashScopeProtocolOptions>? configure = null) => new DashScopeRewriter(Configure(configure));

    /// <summary>Creates the Ollama native metering protocol, for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateOllamaProtocol(Action<OllamaProtocolOptions>? configure = null) => new OllamaProtocol(Configure(configure));

    /// <summary>Creates the <c>ollama</c> rewriter (OpenAI Chat Completions to Ollama <c>/api/chat</c>), for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The rewriter.</returns>
    public static ITokenUsageRewriter CreateOllamaRewriter(Action<OllamaProtocolOptions>? configure = null) => new OllamaRewriter(Configure(configure));

    /// <summary>Creates the Cohere v2 metering protocol, for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateCohereProtocol(Action<CohereProtocolOptions>? configure = null) => new CohereProtocol(Configure(configure));

    /// <summary>Creates the DeepL metering protocol, for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateDeepLProtocol(Action<DeepLProtocolOptions>? configure = null) => new DeepLProtocol(Configure(configure));

    private static T Configure<T>(Action<T>? configure)
        where T : new()
    {
        var options = new T();
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Registers the protocol and rewriter, replacing an earlier registration of the same types (calling twice is safe).</summary>
    private static ITokenMetricsBuilder Register(ITokenMetricsBuilder builder, ITokenUsageProtocol protocol, ITokenUsageRewriter? rewriter)
    {
        for (var i = builder.Services.Count - 1; i >= 0; i--)
        {
            var d = builder.Services[i];
            if (d.ServiceType == typeof(ITokenUsageProtocol) && d.ImplementationInstance is { } existing
                && (existing.GetType() == protocol.GetType() || (rewriter is not null && existing.GetType() == rewriter.GetType())))
            {
                builder.Services.RemoveAt(i);
            }
        }

        builder.Services.AddSingleton(protocol);
        if (rewriter is not null)
        {
            builder.Services.AddSingleton<ITokenUsageProtocol>(rewriter);
        }

        return builder;
    }
}
