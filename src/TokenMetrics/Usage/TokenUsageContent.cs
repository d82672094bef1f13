using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>The conversation text of one call, captured only when content capture is switched on (it is off by default).</summary>
/// <remarks>Goes to stores and the ai_log exporter only, never to metrics. Each text is cut to the configured length with a
/// <c>[truncated]</c> marker in the middle, after the redaction hook ran.</remarks>
public sealed class TokenUsageContent
{
    /// <summary>Gets the last user message of the request.</summary>
    public string? Question { get; init; }

    /// <summary>Gets the answer text (assembled across a stream).</summary>
    public string? Answer { get; init; }

    /// <summary>Gets the reasoning ("thinking") text, when the vendor returns it.</summary>
    public string? Reasoning { get; init; }

    /// <summary>Gets the tool calls the model asked for, in index order (assembled across a stream).</summary>
    public IReadOnlyList<TokenUsageToolCall>? ToolCalls { get; init; }

    /// <summary>Gets the number of characters held, for the byte bound of the export queues.</summary>
    internal int CharCount
    {
        get
        {
            var count = (Question?.Length ?? 0) + (Answer?.Length ?? 0) + (Reasoning?.Length ?? 0);
            if (ToolCalls is { } calls)
            {
                foreach (var call in calls)
                {
                    count += 48 + (call.Id?.Length ?? 0) + (call.Type?.Length ?? 0) + (call.Name?.Length ?? 0) + (call.Arguments?.Length ?? 0);
                }
            }

            return count;
        }
    }
}
