namespace TokenMetrics;

/// <summary>Adds every vendor protocol of <c>TokenMetrics.Providers</c> at once; each vendor's own <c>Add</c> method lives beside
/// its protocol (<see cref="AnthropicTokenMetricsBuilderExtensions"/>, <see cref="OpenAITokenMetricsBuilderExtensions"/>, ...).</summary>
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
}
