namespace TokenMetrics;

/// <summary>How an LLM call ended.</summary>
public enum TokenUsageStatus
{
    /// <summary>The call completed and, for streams, the vendor's terminal event was seen.</summary>
    Ok = 0,

    /// <summary>The call failed: an HTTP error status, an error body or event, or an exception.</summary>
    Error = 1,

    /// <summary>The app stopped reading or cancelled the call before it completed.</summary>
    Cancelled = 2,

    /// <summary>The stream ended cleanly at the transport level but without the vendor's terminal event.</summary>
    Truncated = 3,

    /// <summary>The app dropped the response without reading it to the end or disposing it; recorded once, when the garbage
    /// collector finds the response unreachable.</summary>
    Abandoned = 4,
}
