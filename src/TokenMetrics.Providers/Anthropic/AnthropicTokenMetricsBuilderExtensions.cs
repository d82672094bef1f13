using TokenMetrics.Providers;
using TokenMetrics.Providers.Anthropic;

namespace TokenMetrics;

/// <summary>Adds the Anthropic Messages API (and Claude on Vertex AI), and the <c>anthropic</c> rewriter.</summary>
/// <remarks>Register this before the OpenAI protocol: it matches any host by path and would otherwise take gateway traffic first.</remarks>
public static class AnthropicTokenMetricsBuilderExtensions
{
    /// <summary>Adds the Anthropic Messages protocol (streamed and not; Claude on Vertex AI unless turned off), and the
    /// <c>anthropic</c> rewriter used by clients with <see cref="TokenMetricsHandlerOptions.RewriteTo"/> = <c>"anthropic"</c>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddAnthropic(this ITokenMetricsBuilder builder, Action<AnthropicProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = ProviderRegistration.Configure(configure);
        ITokenUsageProtocol[] protocols = options.IncludeVertexAI
            ? [new AnthropicProtocol(options), new VertexAnthropicProtocol(), new AnthropicRewriter(TimeProvider.System)]
            : [new AnthropicProtocol(options), new AnthropicRewriter(TimeProvider.System)];

        // Vertex is replaced even when this call leaves it out.
        return ProviderRegistration.Register(builder, [typeof(AnthropicProtocol), typeof(VertexAnthropicProtocol), typeof(AnthropicRewriter)], protocols);
    }

    /// <summary>Creates the Anthropic Messages protocol for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateAnthropicProtocol(Action<AnthropicProtocolOptions>? configure = null) =>
        new AnthropicProtocol(ProviderRegistration.Configure(configure));

    /// <summary>Creates the protocol for Claude on Vertex AI (<c>rawPredict</c>, <c>streamRawPredict</c>) for use without dependency injection.</summary>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateVertexAnthropicProtocol() => new VertexAnthropicProtocol();

    /// <summary>Creates the <c>anthropic</c> rewriter (OpenAI Chat Completions → Anthropic Messages) for use without dependency injection.</summary>
    /// <param name="timeProvider">The clock for the <c>created</c> field of transformed answers; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <returns>The rewriter.</returns>
    public static ITokenUsageRewriter CreateAnthropicRewriter(TimeProvider? timeProvider = null) => new AnthropicRewriter(timeProvider ?? TimeProvider.System);
}
