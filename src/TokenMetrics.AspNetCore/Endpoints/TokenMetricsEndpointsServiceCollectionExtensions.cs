using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TokenMetrics;
using TokenMetrics.AspNetCore.Endpoints;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the services of the TokenMetrics endpoints (<c>MapTokenMetrics()</c>).</summary>
public static class TokenMetricsEndpointsServiceCollectionExtensions
{
    /// <summary>Adds what <c>app.MapTokenMetrics()</c> needs: its options (validated at start-up), the default
    /// <see cref="TokenMetricsPolicies"/>, antiforgery, and the start-up check that every TokenMetrics endpoint requires authorization.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Changes the options; optional.</param>
    /// <returns>The <paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <remarks>The API reads an <see cref="ITokenUsageStore"/> (for example <c>services.AddTokenMetrics().AddSqliteStore()</c>) and
    /// the <see cref="TokenMetricsSettingsService"/> of <c>AddTokenMetrics()</c>; without a store the query endpoints answer 503.
    /// Calling it again only applies more configuration.</remarks>
    public static IServiceCollection AddTokenMetricsEndpoints(this IServiceCollection services, Action<TokenMetricsEndpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<TokenMetricsEndpointOptions>();
        if (configure is not null)
        {
            _ = options.Configure(configure);
        }

        _ = options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenMetricsEndpointOptions>, TokenMetricsEndpointOptionsValidation>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<AuthorizationOptions>, TokenMetricsPolicySetup>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TokenMetricsEndpointStartupCheck>());
        services.TryAddSingleton<TokenMetricsEndpointRegistry>();
        services.TryAddSingleton(TimeProvider.System);
        _ = services.AddAuthorization();
        _ = services.AddAntiforgery();
        return services;
    }
}
