using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace TokenMetrics.AspNetCore.Attribution;

/// <summary>Makes the request's user, consumer, session and route the ambient <see cref="TokenMetricsScope"/> for the rest of the
/// pipeline, so every metered LLM call made while handling the request is attributed without app code.</summary>
internal sealed class TokenMetricsAttributionMiddleware(RequestDelegate next, TokenMetricsRequestAttributionOptions options)
{
    private readonly string[] _userClaims = [.. (IEnumerable<string>?)options.UserClaimTypes ?? TokenMetricsRequestAttributionOptions.DefaultUserClaimTypes];
    private readonly string[] _sessionHeaders = [.. (IEnumerable<string>?)options.SessionHeaders ?? TokenMetricsHandlerOptions.DefaultSessionIdHeaders];

    public Task InvokeAsync(HttpContext context)
    {
        TokenUsageAttribution? attribution = null;
        try
        {
            attribution = Read(context);
        }
        catch (Exception)
        {
            // Attribution is a courtesy: a request it cannot read is served unattributed, never failed.
        }

        return attribution is null ? next(context) : RunAsync(context, attribution);
    }

    /// <summary>Removes control characters, trims and caps a value; empty becomes <see langword="null"/>.</summary>
    internal static string? Clean(string? value, int max)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var text = value.Any(char.IsControl) ? new string([.. value.Where(c => !char.IsControl(c))]) : value;
        text = text.Trim();
        if (text.Length > max)
        {
            text = char.IsHighSurrogate(text[max - 1]) ? text[..(max - 1)] : text[..max];
        }

        return text.Length == 0 ? null : text;
    }

    private async Task RunAsync(HttpContext context, TokenUsageAttribution attribution)
    {
        using (TokenMetricsScope.Begin(attribution))
        {
            await next(context).ConfigureAwait(false);
        }
    }

    private TokenUsageAttribution? Read(HttpContext context)
    {
        var max = options.MaxValueLength;
        string? user = null;
        if (context.User is { Identity.IsAuthenticated: true } principal)
        {
            foreach (var type in _userClaims)
            {
                if ((user = Clean(principal.FindFirst(type)?.Value, max)) is not null)
                {
                    break;
                }
            }
        }

        var consumer = options.ConsumerClaimType is { } claim ? Clean(context.User?.FindFirst(claim)?.Value, max) : null;
        if (consumer is null && options.ConsumerHeader is { } consumerHeader)
        {
            consumer = Clean(context.Request.Headers[consumerHeader].ToString(), max);
        }

        string? session = null;
        foreach (var header in _sessionHeaders)
        {
            if ((session = Clean(context.Request.Headers[header].ToString(), max)) is not null)
            {
                break;
            }
        }

        string? route = null;
        if (options.IncludeRoute && context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } raw })
        {
            route = Clean("/" + raw.TrimStart('/'), max);
        }

        if (user is null && consumer is null && session is null && route is null)
        {
            return null;
        }

        return new TokenUsageAttribution
        {
            UserId = user,
            Consumer = consumer,
            SessionId = session,
            Feature = route is not null && TokenMetricsScope.Current?.Feature is null ? route : null,
            Tags = route is null ? null : new Dictionary<string, string>(StringComparer.Ordinal) { ["http.route"] = route },
        };
    }
}
