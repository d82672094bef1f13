namespace TokenMetrics;

/// <summary>What TokenMetrics puts on traces (<see cref="TokenMetricsOptions.Tracing"/>).</summary>
/// <remarks>
/// <para>With <see cref="Enabled"/> on and a listener for <see cref="TokenMetricsDiagnostics.ActivitySourceName"/>, each metered call
/// without a GenAI span gets one (OpenTelemetry GenAI client span, <c>{gen_ai.operation.name} {gen_ai.request.model}</c>) carrying the
/// same numbers as its record; a GenAI span that already exists (Microsoft.Extensions.AI's <c>UseOpenTelemetry()</c>) gets the cost
/// and usage source instead, never a second span. Nobody listening: nothing is created, nothing allocated.</para>
/// <para>Prompt and answer text never go on spans.</para>
/// </remarks>
public sealed class TokenMetricsTracingOptions
{
    /// <summary>Gets or sets a value indicating whether TokenMetrics starts GenAI client spans and enriches existing ones.</summary>
    /// <value>The default is <see langword="true"/> (spans are still only created when something listens).</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether the record's <see cref="TokenUsageRecord.UserId"/> goes on spans as <c>user.id</c>.</summary>
    /// <value>The default is <see langword="false"/>: a user id is personal data, and traces often leave the organisation.</value>
    public bool IncludeUserId { get; set; }

    /// <summary>Gets or sets a value indicating whether the record's <see cref="TokenUsageRecord.SessionId"/> goes on spans as
    /// <c>gen_ai.conversation.id</c>.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool IncludeSessionId { get; set; }
}
