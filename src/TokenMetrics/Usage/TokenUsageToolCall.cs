namespace TokenMetrics;

/// <summary>One tool call the model asked for, as captured with <see cref="TokenUsageContent"/>.</summary>
public sealed class TokenUsageToolCall
{
    /// <summary>Gets the position of the call in the answer (a streamed call's fragments share it).</summary>
    public int Index { get; init; }

    /// <summary>Gets the vendor's call id.</summary>
    public string? Id { get; init; }

    /// <summary>Gets the call type (<c>function</c>).</summary>
    public string? Type { get; init; }

    /// <summary>Gets the function name.</summary>
    public string? Name { get; init; }

    /// <summary>Gets the arguments, as the JSON text the model produced (fragments joined).</summary>
    public string? Arguments { get; init; }
}
