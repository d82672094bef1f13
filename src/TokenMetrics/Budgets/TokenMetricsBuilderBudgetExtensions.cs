using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace TokenMetrics;

/// <summary>Chooses where budget counters live.</summary>
/// <remarks>The default is <see cref="TokenUsageInProcessBudgetStore"/> (this process only). A shared store (Redis, PostgreSQL)
/// replaces it with <see cref="UseBudgetStore{TStore}(ITokenMetricsBuilder)"/>, or by registering <see cref="ITokenUsageBudgetStore"/>
/// in the container before or after <c>AddTokenMetrics()</c> (the last registration wins). The store is resolved at the first
/// budget check, not at start-up.</remarks>
public static class TokenMetricsBuilderBudgetExtensions
{
    /// <summary>Keeps budget counters in <typeparamref name="TStore"/>, resolved from the container (registered as a singleton if it is not).</summary>
    /// <typeparam name="TStore">The store type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder UseBudgetStore<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TStore>(this ITokenMetricsBuilder builder)
        where TStore : class, ITokenUsageBudgetStore
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TStore>();
        _ = builder.Services.Replace(ServiceDescriptor.Singleton<ITokenUsageBudgetStore>(sp => sp.GetRequiredService<TStore>()));
        return builder;
    }

    /// <summary>Keeps budget counters in the store built by <paramref name="factory"/> (once, at the first budget check).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="factory">Creates the store.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static ITokenMetricsBuilder UseBudgetStore(this ITokenMetricsBuilder builder, Func<IServiceProvider, ITokenUsageBudgetStore> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        _ = builder.Services.Replace(ServiceDescriptor.Singleton(factory));
        return builder;
    }
}
