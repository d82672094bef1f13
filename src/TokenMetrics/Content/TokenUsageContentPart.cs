namespace TokenMetrics;

/// <summary>Names a captured text, for <see cref="TokenMetricsContentOptions.Redactor"/>.</summary>
public enum TokenUsageContentPart
{
    /// <summary>The last user message of the request.</summary>
    Question,

    /// <summary>The answer text.</summary>
    Answer,

    /// <summary>The reasoning ("thinking") text.</summary>
    Reasoning,

    /// <summary>The arguments of one tool call.</summary>
    ToolCallArguments,
}
