namespace TokenMetrics;

/// <summary>One server-sent event, as spans over the reader's buffers; valid only during the callback.</summary>
internal readonly ref struct SseEvent
{
    /// <summary>Initializes a new instance of the <see cref="SseEvent"/> struct.</summary>
    /// <param name="eventType">The <c>event:</c> field, empty when absent.</param>
    /// <param name="data">The <c>data:</c> lines joined by LF.</param>
    /// <param name="hasData">Whether any <c>data:</c> field was present.</param>
    /// <param name="raw">The event's exact bytes, terminating blank line included (capture mode only).</param>
    /// <param name="multiLine">Whether the data came from more than one <c>data:</c> line.</param>
    public SseEvent(ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> data, bool hasData, ReadOnlySpan<byte> raw, bool multiLine = false)
    {
        EventType = eventType;
        Data = data;
        HasData = hasData;
        Raw = raw;
        IsMultiLine = multiLine;
    }

    /// <summary>Gets the <c>event:</c> field, empty when absent.</summary>
    public ReadOnlySpan<byte> EventType { get; }

    /// <summary>Gets the <c>data:</c> lines joined by LF.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>Gets a value indicating whether any <c>data:</c> field was present (comment-only blocks have none).</summary>
    public bool HasData { get; }

    /// <summary>Gets a value indicating whether the data came from more than one <c>data:</c> line, which is exactly when it holds an LF
    /// (a line never does): known without searching the data.</summary>
    public bool IsMultiLine { get; }

    /// <summary>Gets the exact bytes of the event as received, including its terminating blank line; empty unless capturing.</summary>
    public ReadOnlySpan<byte> Raw { get; }
}

/// <summary>Receives the events of an <see cref="SseEventReader"/>.</summary>
internal interface ISseEventSink
{
    /// <summary>Called for each complete event (in capture mode also for blocks without data, so their bytes can be forwarded).</summary>
    /// <param name="sseEvent">The event.</param>
    void OnEvent(SseEvent sseEvent);

    /// <summary>Capture mode only: bytes of an event too large to hold, to be forwarded as they are.</summary>
    /// <param name="raw">The bytes.</param>
    void OnPassthrough(ReadOnlySpan<byte> raw);
}
