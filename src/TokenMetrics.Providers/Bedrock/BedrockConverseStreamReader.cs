using System.Text.Json;

namespace TokenMetrics.Providers.Bedrock;

/// <summary>Reads a Bedrock <c>ConverseStream</c> body (<c>application/vnd.amazon.eventstream</c>): <c>messageStart</c>,
/// <c>contentBlockStart/Delta/Stop</c>, <c>messageStop</c> (stop reason), then <c>metadata</c> (usage, metrics).</summary>
/// <remarks>
/// <para><c>metadata</c> is the terminal event (it always comes last and carries the usage): a stream without it is truncated.
/// Usage appears once, so there is nothing to merge; a repeated <c>metadata</c> replaces the earlier one (latest wins).</para>
/// <para>Exceptions arrive as <c>:message-type exception</c> frames (<c>:exception-type</c> = <c>throttlingException</c>,
/// <c>modelStreamErrorException</c>...) or <c>:message-type error</c> frames (<c>:error-code</c>): both set <see cref="TokenUsageResponseReader.ErrorType"/>.</para>
/// </remarks>
internal class BedrockConverseStreamReader(string? requestId) : TokenUsageResponseReader, IEventStreamSink, IDisposable
{
    private readonly EventStreamReader _frames = new();

    public string? StopReason { get; private set; }

    /// <summary>Gets the frame parser (for its counters).</summary>
    internal EventStreamReader Frames => _frames;

    public override void Write(ReadOnlySpan<byte> data)
    {
        ResponseId ??= requestId;
        _frames.Feed(data, this);
    }

    public virtual void OnMessage(EventStreamMessage message)
    {
        var messageType = message.GetString(":message-type"u8);
        if (messageType.SequenceEqual("exception"u8))
        {
            ErrorType = JsonText.UnescapeFragments(message.GetString(":exception-type"u8)) is { Length: > 0 } t ? t : "exception";
            return;
        }

        if (messageType.SequenceEqual("error"u8))
        {
            ErrorType = JsonText.UnescapeFragments(message.GetString(":error-code"u8)) is { Length: > 0 } t ? t : "error";
            return;
        }

        var eventType = message.GetString(":event-type"u8);
        var payload = message.Payload;
        if (eventType.SequenceEqual("contentBlockDelta"u8))
        {
            CollectText(payload);
        }
        else if (eventType.SequenceEqual("metadata"u8))
        {
            ReadMetadata(payload);
        }
        else if (eventType.SequenceEqual("messageStop"u8))
        {
            if (JsonText.TryGetTopLevelValue(payload, "stopReason"u8, out var reason))
            {
                StopReason = JsonText.GetString(reason);
            }
        }
    }

    public virtual void Dispose() => _frames.Dispose();

    private void ReadMetadata(ReadOnlySpan<byte> payload)
    {
        try
        {
            if (JsonText.TryGetTopLevelValue(payload, "usage"u8, out var usage) && BedrockUsage.Parse(usage) is { } parsed)
            {
                Usage = parsed;
            }

            Completed = true;
        }
        catch (JsonException)
        {
        }
    }

    private void CollectText(ReadOnlySpan<byte> payload)
    {
        if (!Take(payload, "\"text\""u8))
        {
            _ = Take(payload, "\"input\""u8);
        }
    }

    private bool Take(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> quotedName)
    {
        var (start, end) = Anthropic.AnthropicEventReader.FindStringValue(payload, quotedName);
        if (start < 0)
        {
            return false;
        }

        if (end > start)
        {
            OutputText.AppendJsonEscaped(payload[start..end]);
        }

        return true;
    }
}
