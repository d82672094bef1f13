namespace TokenMetrics.Providers.Anthropic;

/// <summary>Reads an Anthropic Messages <c>text/event-stream</c> (api.anthropic.com, gateways, Vertex AI <c>streamRawPredict</c>).</summary>
/// <remarks><c>message_stop</c> is the terminal event: a stream that ends without it is truncated, whatever usage it carried.</remarks>
internal sealed class AnthropicStreamReader(int maxEventBytes) : AnthropicEventReader, ISseEventSink, IDisposable
{
    private readonly SseEventReader _sse = new(maxEventBytes);

    public override void Write(ReadOnlySpan<byte> data) => _sse.Feed(data, this);

    public override void Complete() => _sse.Complete(this);

    public void OnEvent(SseEvent sseEvent)
    {
        if (sseEvent.HasData)
        {
            ObserveEvent(sseEvent.EventType, sseEvent.Data);
        }
    }

    public void OnPassthrough(ReadOnlySpan<byte> raw)
    {
    }

    public void Dispose() => _sse.Dispose();
}
