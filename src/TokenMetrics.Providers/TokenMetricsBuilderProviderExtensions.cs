using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using TokenMetrics.Providers.OpenAI;

namespace TokenMetrics;

/// <summary>Adds the vendor protocols of <c>TokenMetrics.Providers</c>.</summary>
public static class TokenMetricsBuilderProviderExtensions
{
    /// <summary>Adds every protocol this package provides: the vendor-specific ones first (Anthropic, Bedrock, Gemini and
    /// Vertex AI, DashScope, Ollama, Cohere, DeepL), then OpenAI, Azure OpenAI and OpenAI-compatible servers, which match any
    /// host by path.</summary>
    /// <remarks>Rewriters are added too, but are used only by clients whose <see cref="TokenMetricsHandlerOptions.RewriteTo"/> names them.</remarks>
    /// <param name="builder">The builder.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddDefaultProviders(this ITokenMetricsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .AddAnthropic()
            .AddBedrock()
            .AddGemini()
            .AddDashScope()
            .AddOllama()
            .AddCohere()
            .AddDeepL()
            .AddOpenAI();
    }

    /// <summary>Adds the OpenAI protocol: Chat Completions, Responses, Completions and Embeddings, streamed and not.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddOpenAI(this ITokenMetricsBuilder builder, Action<OpenAIProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new OpenAIProtocolOptions();
        configure?.Invoke(options);
        builder.Services.RemoveAll<OpenAIProtocolMarker>();
        builder.Services.AddSingleton<OpenAIProtocolMarker>();
        foreach (var d in builder.Services)
        {
            if (d.ServiceType == typeof(ITokenUsageProtocol) && d.ImplementationInstance is OpenAIProtocol)
            {
                builder.Services.Remove(d);
                break;
            }
        }

        builder.Services.AddSingleton<ITokenUsageProtocol>(new OpenAIProtocol(options));
        return builder;
    }

    /// <summary>Creates the OpenAI protocol for use without dependency injection (<c>new TokenMetricsHandler(recorder, [protocol])</c>).</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateOpenAIProtocol(Action<OpenAIProtocolOptions>? configure = null)
    {
        var options = new OpenAIProtocolOptions();
        configure?.Invoke(options);
        return new OpenAIProtocol(options);
    }

    private sealed class OpenAIProtocolMarker;
}
