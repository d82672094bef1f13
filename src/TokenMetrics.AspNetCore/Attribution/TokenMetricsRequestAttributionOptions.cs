using System.Collections.Generic;
using System.Security.Claims;

namespace TokenMetrics;

/// <summary>Options of <c>app.UseTokenMetricsAttribution()</c>: where the request's user, consumer and session are read.</summary>
/// <remarks>A list left <see langword="null"/> uses its default; an empty list reads nothing for that field. Checked when the
/// middleware is added (at start-up).</remarks>
public sealed class TokenMetricsRequestAttributionOptions
{
    /// <summary>Gets the claim types read for the user when <see cref="UserClaimTypes"/> is <see langword="null"/>, first present wins:
    /// <see cref="ClaimTypes.NameIdentifier"/>, <c>sub</c>, <see cref="ClaimTypes.Name"/>.</summary>
    public static IReadOnlyList<string> DefaultUserClaimTypes { get; } = [ClaimTypes.NameIdentifier, "sub", ClaimTypes.Name];

    /// <summary>Gets or sets the claim types that name the user, first present wins.</summary>
    /// <value><see langword="null"/> (the default): <see cref="DefaultUserClaimTypes"/>.</value>
    public IList<string>? UserClaimTypes { get; set; }

    /// <summary>Gets or sets the request header that names the consumer. Default <c>x-mse-consumer</c> (as the handler reads it on
    /// outbound requests); <see langword="null"/> reads none.</summary>
    public string? ConsumerHeader { get; set; } = "x-mse-consumer";

    /// <summary>Gets or sets a claim type that names the consumer (for example a tenant claim); it wins over <see cref="ConsumerHeader"/>,
    /// since a claim is vouched for by authentication and a header is not. Default: none.</summary>
    public string? ConsumerClaimType { get; set; }

    /// <summary>Gets or sets the request headers that name the session, first present wins.</summary>
    /// <value><see langword="null"/> (the default): <see cref="TokenMetricsHandlerOptions.DefaultSessionIdHeaders"/>
    /// (<c>x-openclaw-session-key</c>, <c>x-clawdbot-session-key</c>, <c>x-moltbot-session-key</c>, <c>x-agent-session</c>).</value>
    public IList<string>? SessionHeaders { get; set; }

    /// <summary>Gets or sets a value indicating whether the matched route template (for example <c>/chat/{id}</c>) is added as the tag
    /// <c>http.route</c> and, unless an outer scope already names a feature, as the feature. Default <see langword="true"/>.</summary>
    public bool IncludeRoute { get; set; } = true;

    /// <summary>Gets or sets the longest value kept (longer values are cut); control characters are removed. Default 256 (1 to 4096).</summary>
    public int MaxValueLength { get; set; } = 256;
}
