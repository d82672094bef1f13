using System.Buffers;
using System.Buffers.Text;
using TokenMetrics.Providers.Anthropic;

namespace TokenMetrics.Providers.Bedrock;

/// <summary>Reads a Bedrock <c>InvokeModelWithResponseStream</c> body: event-stream <c>chunk</c> frames whose payload is
/// <c>{"bytes":"&lt;base64&gt;"}</c>, each decoding to one model event. For Anthropic models those are Messages stream events
/// (read with the Anthropic rules: cumulative <c>message_delta</c>, terminal <c>message_stop</c>); for any model the last chunk
/// carries <c>amazon-bedrock-invocationMetrics</c> (<c>inputTokenCount</c>, <c>outputTokenCount</c>), used when the model's own
/// events report no usage.</summary>
internal sealed class BedrockInvokeStreamReader(string? requestId) : AnthropicEventReader, IEventStreamSink, IDisposable
{
    private readonly EventStreamReader _frames = new();
    private byte[] _decoded = [];
    private TokenUsage? _metricsUsage;

    public override void Write(ReadOnlySpan<byte> data)
    {
        ResponseId ??= requestId;
        _frames.Feed(data, this);
    }

    public override void Complete()
    {
        if (RawUsage.IsEmpty && _metricsUsage is not null)
        {
            Usage = _metricsUsage;
        }
    }

    public void OnMessage(EventStreamMessage message)
    {
        var messageType = message.GetString(":message-type"u8);
        if (messageType.SequenceEqual("exception"u8))
        {
            ErrorType = JsonText.UnescapeFragments(message.GetString(":exception-type"u8)) is { Length: > 0 } t ? t : "exception";
            return;
        }

        if (!message.GetString(":event-type"u8).SequenceEqual("chunk"u8) || !JsonText.TryGetTopLevelValue(message.Payload, "bytes"u8, out var raw) || raw.Length < 2)
        {
            return;
        }

        var base64 = raw[1..^1];
        var size = Base64.GetMaxDecodedFromUtf8Length(base64.Length);
        if (_decoded.Length < size)
        {
            if (_decoded.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_decoded);
            }

            _decoded = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1024));
        }

        if (Base64.DecodeFromUtf8(base64, _decoded, out _, out var written) != OperationStatus.Done)
        {
            return;
        }

        var json = _decoded.AsSpan(0, written);
        ObserveEvent(default, json);
        var metricsAt = json.IndexOf("\"amazon-bedrock-invocationMetrics\":"u8);
        if (metricsAt >= 0 && JsonText.TryGetTopLevelValue(json, "amazon-bedrock-invocationMetrics"u8, out var metrics))
        {
            long? input = JsonText.TryGetTopLevelValue(metrics, "inputTokenCount"u8, out var i) && long.TryParse(i, out var iv) ? iv : null;
            long? output = JsonText.TryGetTopLevelValue(metrics, "outputTokenCount"u8, out var o) && long.TryParse(o, out var ov) ? ov : null;
            _metricsUsage = BedrockUsage.Create(input, output, null, null, null);
            Completed = true;
        }
    }

    public void Dispose()
    {
        _frames.Dispose();
        if (_decoded.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_decoded);
            _decoded = [];
        }
    }
}
