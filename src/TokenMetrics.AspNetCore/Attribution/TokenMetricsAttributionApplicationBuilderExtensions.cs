using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenMetrics;
using TokenMetrics.AspNetCore.Attribution;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the TokenMetrics inbound attribution middleware.</summary>
public static class TokenMetricsAttributionApplicationBuilderExtensions
{
    /// <summary>Attributes every metered LLM call made while handling a request to the request's user (claims), consumer (header or
    /// claim), session (headers) and route, through a <see cref="TokenMetricsScope"/> around the rest of the pipeline: no app code.</summary>
    /// <param name="app">The application builder.</param>
    /// <param name="configure">Changes the options; without it the options registered with
    /// <c>services.Configure&lt;TokenMetricsRequestAttributionOptions&gt;()</c> (or the defaults) apply.</param>
    /// <returns>The <paramref name="app"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="app"/> is <see langword="null"/>.</exception>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    /// <remarks>Place it after <c>UseAuthentication()</c> (the user comes from <c>HttpContext.User</c>) and after <c>UseRouting()</c>
    /// when the app calls it explicitly (the route comes from the matched endpoint). Values given with a call or by an inner scope
    /// win over these. A header is the caller's claim, not a proof: use <see cref="TokenMetricsRequestAttributionOptions.ConsumerClaimType"/>
    /// where the consumer is billed.</remarks>
    public static IApplicationBuilder UseTokenMetricsAttribution(this IApplicationBuilder app, Action<TokenMetricsRequestAttributionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        TokenMetricsRequestAttributionOptions options;
        if (configure is null)
        {
            options = app.ApplicationServices.GetService<IOptions<TokenMetricsRequestAttributionOptions>>()?.Value ?? new();
        }
        else
        {
            options = new TokenMetricsRequestAttributionOptions();
            configure(options);
        }

        if (options.MaxValueLength is < 1 or > 4096)
        {
            throw new OptionsValidationException(nameof(TokenMetricsRequestAttributionOptions), typeof(TokenMetricsRequestAttributionOptions),
                [$"TokenMetricsRequestAttributionOptions.MaxValueLength must be between 1 and 4096 (was {options.MaxValueLength})."]);
        }

        return app.UseMiddleware<TokenMetricsAttributionMiddleware>(options);
    }
}
