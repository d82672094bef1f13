using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TokenMetrics.Budgets.Redis;

namespace TokenMetrics;

/// <summary>Adds the Redis budget counters to TokenMetrics.</summary>
public static class RedisBudgetTokenMetricsBuilderExtensions
{
    /// <summary>Keeps budget counters in Redis, shared by every instance of the app: registers a
    /// <see cref="RedisTokenUsageBudgetStore"/> as the <see cref="ITokenUsageBudgetStore"/>, replacing the in-process default.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the connection string or connection, and optionally the key prefix and timeout.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <remarks>The options are validated when the host starts (<see cref="OptionsBuilderExtensions.ValidateOnStart{TOptions}"/>).</remarks>
    public static ITokenMetricsBuilder AddRedisBudgetStore(this ITokenMetricsBuilder builder, Action<RedisBudgetStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<RedisBudgetStoreOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisBudgetStoreOptions>, RedisBudgetStoreOptionsValidator>());
        builder.Services.TryAddSingleton(sp => new RedisTokenUsageBudgetStore(
            sp.GetRequiredService<IOptions<RedisBudgetStoreOptions>>().Value,
            sp.GetService<ILoggerFactory>()?.CreateLogger<RedisTokenUsageBudgetStore>(),
            sp.GetService<TimeProvider>()));

        // Replace, not TryAdd: the budgets registration adds the in-process store with TryAdd, in either order.
        builder.Services.Replace(ServiceDescriptor.Singleton<ITokenUsageBudgetStore>(sp => sp.GetRequiredService<RedisTokenUsageBudgetStore>()));
        return builder;
    }

    private sealed class RedisBudgetStoreOptionsValidator : IValidateOptions<RedisBudgetStoreOptions>
    {
        public ValidateOptionsResult Validate(string? name, RedisBudgetStoreOptions options)
        {
            var errors = options.Validate();
            if (errors.Count == 0 && options.Connection is null)
            {
                try
                {
                    _ = StackExchange.Redis.ConfigurationOptions.Parse(options.ConnectionString!);
                }
                catch (ArgumentException)
                {
                    // The message could echo the string, which may hold a password: say only that it is malformed.
                    errors.Add("RedisBudgetStoreOptions.ConnectionString is not a valid StackExchange.Redis configuration string.");
                }
            }

            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
