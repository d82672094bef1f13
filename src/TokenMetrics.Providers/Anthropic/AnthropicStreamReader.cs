using System.Buffers;
using TokenMetrics.Internal;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>Reads an Anthropic Messages <c>text/event-stream</c> (api.anthropic.com, gateways, Vertex AI <c>streamRawPredict</c>).</summary>
/// <remarks><c>message_stop</c> is the terminal event: a stream that ends without it is truncated, whatever usage it carried.
/// Only with an output cap does it transform: events under the cap are forwarded byte for byte, and at the cap the app gets
/// Anthropic's own end (<see cref="AnthropicStreamCapEnd"/>).</remarks>
internal sealed class AnthropicStreamReader(int maxEventBytes) : AnthropicEventReader, ISseEventSink, IDisposable, IStreamOutputCapReader
{
    private SseEventReader _sse = new(maxEventBytes);
    private StreamOutputCap? _cap;
    private IBufferWriter<byte>? _output;
    private bool _capEnded;
    private int _openBlock = -1;

    public override bool TransformsContent => _cap is not null;

    public bool EnableCap(StreamOutputCap cap)
    {
        _cap = cap;
        OutputText.Cap = cap;

        // Events must be forwarded whole, so their bytes are kept.
        _sse.Dispose();
        _sse = new SseEventReader(maxEventBytes, captureRaw: true);
        return true;
    }

    public override void Write(ReadOnlySpan<byte> data) => _sse.Feed(data, this);

    public override void Complete()
    {
        if (!_capEnded)
        {
            _sse.Complete(this);
        }
    }

    public override void Transform(ReadOnlySpan<byte> data, IBufferWriter<byte> output, bool final)
    {
        _output = output;
        try
        {
            _sse.Feed(data, this);
            if (final && !_capEnded)
            {
                _sse.Complete(this);
            }
        }
        finally
        {
            _output = null;
        }
    }

    public void OnEvent(SseEvent sseEvent)
    {
        if (_capEnded)
        {
            return; // after the cut nothing more is read or forwarded
        }

        if (sseEvent.HasData)
        {
            _cap?.BeginEvent();
            ObserveEvent(sseEvent.EventType, sseEvent.Data);
            if (_cap is not null && !CapAllows(sseEvent.EventType, sseEvent.Data))
            {
                return;
            }
        }

        _output?.Write(sseEvent.Raw);
    }

    public void OnPassthrough(ReadOnlySpan<byte> raw)
    {
        // Capped streams only: an event too large to hold goes through as it is (uncounted: the cap fails open).
        if (!_capEnded)
        {
            _output?.Write(raw);
        }
    }

    public void Dispose() => _sse.Dispose();

    /// <summary>After an event was observed (its text counted): <see langword="true"/> to forward it; otherwise the cap is reached
    /// and the app gets Anthropic's end of stream instead of the event.</summary>
    private bool CapAllows(ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> json)
    {
        if (_cap!.EndEvent())
        {
            var type = eventType.IsEmpty ? TypeOf(json) : eventType;
            if (type.SequenceEqual("content_block_start"u8))
            {
                _openBlock = JsonText.TryGetTopLevelValue(json, "index"u8, out var index) && System.Buffers.Text.Utf8Parser.TryParse(index, out int i, out _) ? i : 0;
            }
            else if (type.SequenceEqual("content_block_stop"u8))
            {
                _openBlock = -1;
            }

            return true;
        }

        _capEnded = true;
        Completed = true;
        if (_output is not null)
        {
            AnthropicStreamCapEnd.Write(_output, _openBlock, RawUsage, _cap.Tokens);
        }

        return false;
    }
}
