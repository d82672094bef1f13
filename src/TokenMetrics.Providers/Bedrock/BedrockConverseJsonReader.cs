using System.Text.Json;

using TokenMetrics.Providers.Json;

namespace TokenMetrics.Providers.Bedrock;

/// <summary>Reads a non-streamed Bedrock Converse body: <c>{"output":{"message":...},"stopReason":...,"usage":{...},"metrics":{...}}</c>,
/// or an error body (<c>{"message":"..."}</c>, with the type in the <c>x-amzn-ErrorType</c> header).</summary>
internal sealed class BedrockConverseJsonReader(int maxBytes, string? requestId) : TokenUsageResponseReader, IDisposable
{
    private BoundedBody _body = new(maxBytes);

    public string? StopReason { get; private set; }

    public override void Write(ReadOnlySpan<byte> data) => _body.Write(data);

    public override void Complete()
    {
        ResponseId ??= requestId;
        try
        {
            if (_body.Overflowed)
            {
                Completed = true;
                var tail = _body.Tail;
                var at = tail.LastIndexOf("\"usage\":"u8);
                if (at >= 0)
                {
                    Usage = BedrockUsage.Parse(tail[(at + 8)..].TrimStart(" \t\r\n"u8));
                }

                return;
            }

            if (_body.Body.Length == 0)
            {
                return;
            }

            var reader = new Utf8JsonReader(_body.Body, JsonScan.Options);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    Usage = BedrockUsage.Parse(ref reader);
                }
                else if (reader.ValueTextEquals("stopReason"u8))
                {
                    reader.Read();
                    StopReason = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            Completed = reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0;
        }
        catch (JsonException)
        {
        }
    }

    public void Dispose() => _body.Dispose();
}
