using TokenMetrics.Providers;
using TokenMetrics.Providers.Bedrock;

namespace TokenMetrics;

/// <summary>Adds the Amazon Bedrock runtime protocol and the <c>aws.bedrock</c> rewriter.</summary>
/// <remarks>Register this before the OpenAI protocol: it matches any host by path and would otherwise take gateway traffic first.</remarks>
public static class BedrockTokenMetricsBuilderExtensions
{
    /// <summary>Adds the Amazon Bedrock runtime protocol (Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream), and
    /// the <c>aws.bedrock</c> rewriter used by clients with <see cref="TokenMetricsHandlerOptions.RewriteTo"/> = <c>"aws.bedrock"</c>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddBedrock(this ITokenMetricsBuilder builder, Action<BedrockProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = ProviderRegistration.Configure(configure);
        return ProviderRegistration.Register(builder, new BedrockProtocol(options), new BedrockRewriter(options.TimeProvider));
    }

    /// <summary>Creates the Amazon Bedrock runtime protocol for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateBedrockProtocol(Action<BedrockProtocolOptions>? configure = null) =>
        new BedrockProtocol(ProviderRegistration.Configure(configure));

    /// <summary>Creates the <c>aws.bedrock</c> rewriter (OpenAI Chat Completions → Bedrock Converse/ConverseStream) for use without dependency injection.</summary>
    /// <param name="configure">Changes the options (the clock used for SigV4 signing).</param>
    /// <returns>The rewriter.</returns>
    public static ITokenUsageRewriter CreateBedrockRewriter(Action<BedrockProtocolOptions>? configure = null) =>
        new BedrockRewriter(ProviderRegistration.Configure(configure).TimeProvider);
}
