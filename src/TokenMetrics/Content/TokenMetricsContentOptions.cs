using System.ComponentModel.DataAnnotations;

namespace TokenMetrics;

/// <summary>How conversation content is captured when content capture is switched on
/// (<see cref="TokenMetricsOptions.CaptureContent"/>, or at run time through the settings).</summary>
/// <remarks>Captured content goes to stores and the ai_log exporter only, never to metrics or spans.</remarks>
public sealed class TokenMetricsContentOptions
{
    /// <summary>The default <see cref="MaxLength"/>, as in Higress' ai-statistics: 4000 characters.</summary>
    public const int DefaultMaxLength = 4000;

    /// <summary>Gets or sets the longest text kept whole, in characters; a longer one keeps its first and last
    /// <c>MaxLength/2</c> characters with <c>" [truncated] "</c> between them. Applies to each text (question, answer,
    /// reasoning, each tool call's arguments) after redaction.</summary>
    [Range(16, 10 * 1024 * 1024)]
    public int MaxLength { get; set; } = DefaultMaxLength;

    /// <summary>Gets or sets a value indicating whether the last user message of the request is captured.</summary>
    public bool CaptureQuestion { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether the answer text is captured.</summary>
    public bool CaptureAnswer { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether reasoning ("thinking") text is captured.</summary>
    public bool CaptureReasoning { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether tool calls (id, name, arguments) are captured.</summary>
    public bool CaptureToolCalls { get; set; } = true;

    /// <summary>Gets or sets the hook that redacts each captured text before it is cut to <see cref="MaxLength"/>: it receives
    /// which text it is and the text, and returns the text to keep (or <see langword="null"/> to drop it).</summary>
    /// <remarks>
    /// <para>Called on the app's side when a call ends, once per captured text, so keep it fast; it must be thread-safe.
    /// A text longer than twice <see cref="MaxLength"/> is never held whole: the hook then sees its head and its tail, each
    /// <see cref="MaxLength"/> characters long, in two calls.</para>
    /// <para>When it throws, that text is dropped (never kept unredacted) and the failure is counted in
    /// <see cref="TokenMetricsStatistics.CallbackFailures"/>; the app is not affected.</para>
    /// </remarks>
    public Func<TokenUsageContentPart, string, string?>? Redactor { get; set; }
}
