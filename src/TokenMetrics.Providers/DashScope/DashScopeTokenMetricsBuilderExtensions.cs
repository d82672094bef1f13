using TokenMetrics.Providers;
using TokenMetrics.Providers.DashScope;

namespace TokenMetrics;

/// <summary>Adds the Alibaba DashScope (Qwen) native protocol and the <c>dashscope</c> rewriter (<see cref="TokenMetricsHandlerOptions.RewriteTo"/> = <c>dashscope</c>).</summary>
public static class DashScopeTokenMetricsBuilderExtensions
{
    /// <summary>Adds the DashScope native protocol (<c>dashscope</c>) and the <c>dashscope</c> rewriter.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder AddDashScope(this ITokenMetricsBuilder builder, Action<DashScopeProtocolOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = ProviderRegistration.Configure(configure);
        return ProviderRegistration.Register(builder, new DashScopeProtocol(options), new DashScopeRewriter(options));
    }

    /// <summary>Creates the DashScope native metering protocol, for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The protocol.</returns>
    public static ITokenUsageProtocol CreateDashScopeProtocol(Action<DashScopeProtocolOptions>? configure = null) => new DashScopeProtocol(ProviderRegistration.Configure(configure));

    /// <summary>Creates the <c>dashscope</c> rewriter (OpenAI Chat Completions to DashScope native), for use without dependency injection.</summary>
    /// <param name="configure">Changes the protocol's options.</param>
    /// <returns>The rewriter.</returns>
    public static ITokenUsageRewriter CreateDashScopeRewriter(Action<DashScopeProtocolOptions>? configure = null) => new DashScopeRewriter(ProviderRegistration.Configure(configure));
}
