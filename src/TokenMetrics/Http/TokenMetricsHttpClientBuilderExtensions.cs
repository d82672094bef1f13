using System.Linq;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using TokenMetrics;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds <see cref="TokenMetricsHandler"/> to <c>IHttpClientFactory</c> clients.</summary>
public static class TokenMetricsHttpClientBuilderExtensions
{
    /// <summary>Meters this client (or, inside <c>ConfigureHttpClientDefaults</c>, every client).</summary>
    /// <param name="builder">The client builder.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    /// <remarks>Requires <c>services.AddTokenMetrics()</c>; the handler is added once per client even when both this and the
    /// all-clients form apply. Options are named after the client.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static IHttpClientBuilder AddTokenMetricsHandler(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<TokenMetricsHandlerOptions>().ValidateOnStart();

        // Named HttpClientFactoryOptions; a null name (ConfigureHttpClientDefaults) configures every client.
        builder.Services.Configure<HttpClientFactoryOptions>(builder.Name, options =>
            options.HttpMessageHandlerBuilderActions.Add(static b =>
            {
                if (b.AdditionalHandlers.Any(h => h is TokenMetricsHandler))
                {
                    return;
                }

                var sp = b.Services;
                var recorder = sp.GetService<TokenUsageRecorder>() ?? throw new InvalidOperationException(
                    "TokenMetrics is not registered: call services.AddTokenMetrics() before AddTokenMetricsHandler().");
                var handlerOptions = sp.GetRequiredService<IOptionsMonitor<TokenMetricsHandlerOptions>>().Get(b.Name ?? Options.Options.DefaultName);
                b.AdditionalHandlers.Add(new TokenMetricsHandler(recorder, sp.GetServices<ITokenUsageProtocol>(), handlerOptions, b.Name));
            }));
        return builder;
    }

    /// <summary>Meters this client with settings.</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="configure">Changes this client's options.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    public static IHttpClientBuilder AddTokenMetricsHandler(this IHttpClientBuilder builder, Action<TokenMetricsHandlerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        if (builder.Name is null)
        {
            builder.Services.ConfigureAll(configure);
        }
        else
        {
            builder.Services.Configure(builder.Name, configure);
        }

        return builder.AddTokenMetricsHandler();
    }

    /// <summary>Meters this client with settings bound from configuration.</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="configuration">The configuration section.</param>
    /// <returns>The <paramref name="builder"/>.</returns>
    public static IHttpClientBuilder AddTokenMetricsHandler(this IHttpClientBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        builder.Services.AddOptions<TokenMetricsHandlerOptions>(builder.Name ?? Options.Options.DefaultName).Bind(configuration);
        return builder.AddTokenMetricsHandler();
    }
}
