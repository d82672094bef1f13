using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>Where TokenMetrics finds who a call is for, beyond <see cref="TokenMetricsScope"/> and <c>ChatOptions</c>.</summary>
/// <remarks>Bindable from configuration as <c>TokenMetrics:Attribution</c> (it is <see cref="TokenMetricsOptions.Attribution"/>) and
/// validated at start-up with the rest of <see cref="TokenMetricsOptions"/>. Request headers are read by the handler
/// (<see cref="TokenMetricsHandlerOptions"/>), not here.</remarks>
public sealed class TokenMetricsAttributionOptions
{
    /// <summary>Gets or sets how OpenTelemetry / W3C baggage (the <c>baggage</c> header) attributes calls.</summary>
    public TokenMetricsBaggageOptions Baggage { get; set; } = new();
}

/// <summary>How W3C baggage attributes calls: which baggage keys are read (on the current <see cref="System.Diagnostics.Activity"/>),
/// and whether a <see cref="TokenMetricsScope"/> puts its values into baggage for the services it calls.</summary>
/// <remarks>
/// <para>Baggage is read from <see cref="System.Diagnostics.Activity.Current"/> and its parents: ASP.NET Core puts the incoming
/// <c>baggage</c> header there when it starts the request's activity (it extracts baggage only from requests that carry a
/// <c>traceparent</c>, which every .NET <c>HttpClient</c> sends along with baggage). OpenTelemetry's own <c>Baggage.Current</c> is not
/// read (it needs the OpenTelemetry.Api package); with OpenTelemetry's ASP.NET Core instrumentation the incoming baggage is on the
/// activity as well.</para>
/// <para>Precedence, for each field: values given with the call (<c>ChatOptions</c>) win over the ambient <see cref="TokenMetricsScope"/>,
/// which wins over baggage. Within one key list the first key present wins.</para>
/// <para>A key list left <see langword="null"/> uses its default; an empty list reads nothing for that field.</para>
/// </remarks>
public sealed class TokenMetricsBaggageOptions
{
    /// <summary>Gets the keys read for the user when <see cref="UserKeys"/> is <see langword="null"/>: <c>user.id</c> (OpenTelemetry
    /// semantic conventions), <c>enduser.id</c> (its former name).</summary>
    public static IReadOnlyList<string> DefaultUserKeys { get; } = ["user.id", "enduser.id"];

    /// <summary>Gets the keys read for the session when <see cref="SessionKeys"/> is <see langword="null"/>: <c>session.id</c>
    /// (OpenTelemetry semantic conventions), <c>gen_ai.conversation.id</c>.</summary>
    public static IReadOnlyList<string> DefaultSessionKeys { get; } = ["session.id", "gen_ai.conversation.id"];

    /// <summary>Gets the keys read for the consumer when <see cref="ConsumerKeys"/> is <see langword="null"/>: <c>tenant.id</c>,
    /// <c>consumer.id</c>.</summary>
    public static IReadOnlyList<string> DefaultConsumerKeys { get; } = ["tenant.id", "consumer.id"];

    /// <summary>Gets the keys read for the feature when <see cref="FeatureKeys"/> is <see langword="null"/>: <c>feature.name</c>.</summary>
    public static IReadOnlyList<string> DefaultFeatureKeys { get; } = ["feature.name"];

    /// <summary>Gets or sets a value indicating whether baggage is read at all.</summary>
    /// <value>The default is <see langword="true"/>. Reading costs nothing when there is no current activity or it carries no baggage.</value>
    public bool Read { get; set; } = true;

    /// <summary>Gets or sets the baggage keys that name the user, first match wins.</summary>
    /// <value><see langword="null"/> (the default): <see cref="DefaultUserKeys"/>.</value>
    public IList<string>? UserKeys { get; set; }

    /// <summary>Gets or sets the baggage keys that name the session or conversation, first match wins.</summary>
    /// <value><see langword="null"/> (the default): <see cref="DefaultSessionKeys"/>.</value>
    public IList<string>? SessionKeys { get; set; }

    /// <summary>Gets or sets the baggage keys that name the consumer (tenant, team, calling service), first match wins.</summary>
    /// <value><see langword="null"/> (the default): <see cref="DefaultConsumerKeys"/>.</value>
    public IList<string>? ConsumerKeys { get; set; }

    /// <summary>Gets or sets the baggage keys that name the product feature, first match wins.</summary>
    /// <value><see langword="null"/> (the default): <see cref="DefaultFeatureKeys"/>.</value>
    public IList<string>? FeatureKeys { get; set; }

    /// <summary>Gets or sets baggage keys copied into <see cref="TokenUsageRecord.Tags"/> under the same name.</summary>
    /// <value>Empty or <see langword="null"/> (the default): none.</value>
    public IList<string>? TagKeys { get; set; }

    /// <summary>Gets or sets a value indicating whether every <see cref="TokenMetricsScope"/> puts its user, session, consumer and feature
    /// into baggage (under the first key of each list) for as long as it lasts, so the services this one calls over HTTP attribute
    /// their calls to the same user.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    /// <remarks>
    /// <para>The values go on <see cref="System.Diagnostics.Activity.Current"/> (the request's activity in ASP.NET Core), which
    /// <c>HttpClient</c> sends as the <c>baggage</c> header to every service called inside the scope; the previous values are restored
    /// when the scope ends. Where there is no current activity the scope starts one (<c>TokenMetrics.Attribution</c>) for its duration,
    /// since baggage travels only with an activity. Flows running in parallel under the same activity share its baggage.</para>
    /// <para>The LLM vendors called inside the scope receive the header too, like every other service: baggage is not for secrets.
    /// Process-wide: it applies to all scopes once a recorder with this setting is created, until that recorder is disposed.</para>
    /// </remarks>
    public bool Propagate { get; set; }
}
