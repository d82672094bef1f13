using Microsoft.Extensions.DependencyInjection;
using TokenMetrics;

namespace Microsoft.Extensions.AI;

/// <summary>Decorates an <see cref="IChatClient"/> with <see cref="TokenMetricsChatClient"/>.</summary>
public static class TokenMetricsChatClientExtensions
{
    /// <summary>Wraps <paramref name="client"/> so every call is metered.</summary>
    /// <param name="client">The client.</param>
    /// <param name="recorder">Where records go.</param>
    /// <param name="configure">Configures the decorator (client name, provider name).</param>
    /// <returns>The metered client.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="recorder"/> is <see langword="null"/>.</exception>
    public static IChatClient WithTokenMetrics(this IChatClient client, TokenUsageRecorder recorder, Action<TokenMetricsChatClient>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(recorder);
        var metered = new TokenMetricsChatClient(client, recorder);
        configure?.Invoke(metered);
        return metered;
    }

    /// <summary>Wraps <paramref name="client"/> using the <see cref="TokenUsageRecorder"/> registered by <c>AddTokenMetrics()</c>.</summary>
    /// <param name="client">The client.</param>
    /// <param name="services">The service provider.</param>
    /// <param name="configure">Configures the decorator.</param>
    /// <returns>The metered client.</returns>
    /// <exception cref="InvalidOperationException"><c>AddTokenMetrics()</c> was not called.</exception>
    public static IChatClient UseTokenMetrics(this IChatClient client, IServiceProvider services, Action<TokenMetricsChatClient>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        return client.WithTokenMetrics(GetRecorder(services), configure);
    }

    /// <summary>Returns the middleware in the shape <c>ChatClientBuilder.Use</c> takes, for pipelines built with Microsoft.Extensions.AI:
    /// <c>builder.Use(TokenMetricsChatClientExtensions.TokenMetricsMiddleware())</c>.</summary>
    /// <param name="configure">Configures each decorator created.</param>
    /// <returns>The factory.</returns>
    public static Func<IChatClient, IServiceProvider, IChatClient> TokenMetricsMiddleware(Action<TokenMetricsChatClient>? configure = null) =>
        (inner, services) => inner.UseTokenMetrics(services, configure);

    /// <summary>Registers an <see cref="IChatClient"/> built by <paramref name="innerFactory"/> and metered by TokenMetrics.</summary>
    /// <param name="services">The services.</param>
    /// <param name="innerFactory">Creates the client to meter.</param>
    /// <param name="configure">Configures the decorator.</param>
    /// <param name="lifetime">The service lifetime.</param>
    /// <returns>The <paramref name="services"/>.</returns>
    public static IServiceCollection AddTokenMetricsChatClient(
        this IServiceCollection services,
        Func<IServiceProvider, IChatClient> innerFactory,
        Action<TokenMetricsChatClient>? configure = null,
        ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(innerFactory);
        _ = services.AddTokenMetrics();
        services.Add(new ServiceDescriptor(typeof(IChatClient), sp => innerFactory(sp).UseTokenMetrics(sp, configure), lifetime));
        return services;
    }

    private static TokenUsageRecorder GetRecorder(IServiceProvider services) =>
        services.GetService<TokenUsageRecorder>() ?? throw new InvalidOperationException(
            "TokenMetrics is not registered: call services.AddTokenMetrics() before decorating a chat client.");
}
