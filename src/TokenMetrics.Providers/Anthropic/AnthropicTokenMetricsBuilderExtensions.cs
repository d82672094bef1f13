using Microsoft.Extensions.DependencyInjection;
using TokenMetrics.Providers.Anthropic;
using TokenMetrics.Providers.Bedrock;

namespace TokenMetrics;

/// <summary>Adds the Anthropic family of vendors: the Anthropic Messages API (and Claude on Vertex AI) and Amazon Bedrock.</summary>
/// <remarks>Register these before the OpenAI protocol: it matches any host by path and would otherwise take gateway traffic first.</remarks>
public static class AnthropicBuilderExtensions
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
        var options = new AnthropicProtocolOptions();
        configure?.Invoke(options);
        RemoveRegistered(builder.Services, static p => p is AnthropicProtocol or VertexAnthropicProtocol or AnthropicRewriter);
        foreach (var protocol in CreateAnthropicProtocols(options))
        {
            builder.Services.AddSingleton(protocol);
        }

        return builder;
    }

    /// <summary>Adds the Amazon Bedrock runtime protocol (Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream), and
    /// the <c>aws.bedrock</c> rewriter used by clients with <see cref="TokenMetricsHandlerOptions.RewriteTo"/> = <c>"aws.bedrock"</c>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddBedrock(this ITokenMetricsBuilder builder, Action<BedrockProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new BedrockProtocolOptions();
        configure?.Invoke(options);
        RemoveRegistered(builder.Services, static p => p is BedrockProtocol or BedrockRewriter);
        foreach (var protocol in CreateBedrockProtocols(options))
        {
            builder.Services.AddSingleton(protocol);
        }

        return builder;
    }

    /// <summary>Creates the Anthropic Messages protocol for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateAnthropicProtocol(Action<AnthropicProtocolOptions>? configure = null)
    {
        var options = new AnthropicProtocolOptions();
        configure?.Invoke(options);
        return new AnthropicProtocol(options);
    }

    /// <summary>Creates the protocol for Claude on Vertex AI (<c>rawPredict</c>, <c>streamRawPredict</c>) for use without dependency injection.</summary>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateVertexAnthropicProtocol() => new VertexAnthropicProtocol();

    /// <summary>Creates the <c>anthropic</c> rewriter (OpenAI Chat Completions → Anthropic Messages) for use without dependency injection.</summary>
    /// <param name="timeProvider">The clock for the <c>created</c> field of transformed answers; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <returns>The rewriter.</returns>
    public static ITokenUsageRewriter CreateAnthropicRewriter(TimeProvider? timeProvider = null) => new AnthropicRewriter(timeProvider ?? TimeProvider.System);

    /// <summary>Creates the Amazon Bedrock runtime protocol for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateBedrockProtocol(Action<BedrockProtocolOptions>? configure = null)
    {
        var options = new BedrockProtocolOptions();
        configure?.Invoke(options);
        return new BedrockProtocol(options);
    }

    /// <summary>Creates the <c>aws.bedrock</c> rewriter (OpenAI Chat Completions → Bedrock Converse/ConverseStream) for use without dependency injection.</summary>
    /// <param name="configure">Changes the options (the clock used for SigV4 signing).</param>
    /// <returns>The rewriter.</returns>
    public static ITokenUsageRewriter CreateBedrockRewriter(Action<BedrockProtocolOptions>? configure = null)
    {
        var options = new BedrockProtocolOptions();
        configure?.Invoke(options);
        return new BedrockRewriter(options.TimeProvider);
    }

    /// <summary>Calling an Add method again replaces its earlier registration (the last configuration wins), never duplicates it.</summary>
    private static void RemoveRegistered(IServiceCollection services, Func<object?, bool> match)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(ITokenUsageProtocol) && !services[i].IsKeyedService && match(services[i].ImplementationInstance))
            {
                services.RemoveAt(i);
            }
        }
    }

    private static ITokenUsageProtocol[] CreateAnthropicProtocols(AnthropicProtocolOptions options) => options.IncludeVertexAI
        ? [new AnthropicProtocol(options), new VertexAnthropicProtocol(), new AnthropicRewriter(TimeProvider.System)]
        : [new AnthropicProtocol(options), new AnthropicRewriter(TimeProvider.System)];

    private static ITokenUsageProtocol[] CreateBedrockProtocols(BedrockProtocolOptions options) =>
        [new BedrockProtocol(options), new BedrockRewriter(options.TimeProvider)];
}
