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

    /// <summary>TokenMetrics ended the stream because its output passed the configured output cap: the app received a well-formed
    /// end of stream in the vendor's format and the upstream request was cancelled.</summary>
    Capped = 5,

    /// <summary>TokenMetrics rejected the call before it left the process because it would have broken a budget; nothing was sent.</summary>
    Rejected = 6,
}
