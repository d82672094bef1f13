using System.Text.Json;

using TokenMetrics.Providers.Json;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>Reads a non-streamed Anthropic Messages body (<c>{"type":"message",...,"usage":{...}}</c>) or an error body
/// (<c>{"type":"error","error":{"type":...}}</c>), scanning it once at the end with <see cref="Utf8JsonReader"/>.</summary>
/// <remarks>Also used for Bedrock <c>InvokeModel</c> and Vertex AI <c>rawPredict</c>, whose bodies are the same JSON.
/// <paramref name="fallback"/> is usage known from elsewhere (Bedrock's token-count headers), used when the body has none.</remarks>
internal sealed class AnthropicJsonReader(int maxBytes, TokenUsage? fallback = null) : TokenUsageResponseReader, IDisposable
{
    private BoundedBody _body = new(maxBytes);
    private AnthropicUsage _usage;

    /// <summary>Gets the kept body (for rewriters that transform it).</summary>
    internal ref readonly BoundedBody Buffer => ref _body;

    /// <summary>Gets the stop reason of the message.</summary>
    public string? StopReason { get; private set; }

    public override void Write(ReadOnlySpan<byte> data) => _body.Write(data);

    public override void Complete()
    {
        try
        {
            if (_body.Overflowed)
            {
                // The whole answer was seen but not kept: usage is near the end.
                Completed = true;
                var tail = _body.Tail;
                var at = tail.LastIndexOf("\"usage\":"u8);
                if (at >= 0)
                {
                    _usage = AnthropicUsage.Parse(tail[(at + 8)..].TrimStart(" \t\r\n"u8));
                }
            }
            else if (_body.Body.Length > 0)
            {
                Scan(_body.Body, collectText: false);
                Completed = true;
                if (Capture is { } capture)
                {
                    AnthropicContent.ObserveBody(_body.Body, capture);
                }

                if (_usage.IsEmpty && fallback is null)
                {
                    // Only now is the answer text worth keeping: a second pass, for the estimate.
                    Scan(_body.Body, collectText: true);
                }
            }
        }
        catch (JsonException)
        {
            // Cut or not JSON: keep what was found before the bad byte.
        }

        Usage = _usage.ToTokenUsage() ?? fallback;
    }

    public void Dispose() => _body.Dispose();

    private void Scan(ReadOnlySpan<byte> json, bool collectText)
    {
        var reader = new Utf8JsonReader(json, JsonScan.Options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("not an object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                AnthropicUsage.Merge(ref reader, ref _usage);
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                ResponseModel = ModelNames.Read(ref reader) ?? ResponseModel;
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                ResponseId = reader.TokenType == JsonTokenType.String ? reader.GetString() : ResponseId;
            }
            else if (reader.ValueTextEquals("stop_reason"u8))
            {
                reader.Read();
                StopReason = reader.TokenType == JsonTokenType.String ? reader.GetString() : StopReason;
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                ReadError(ref reader);
            }
            else if (collectText && reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                CollectText(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.CurrentDepth != 0)
        {
            throw new JsonException("incomplete");
        }
    }

    private void ReadError(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        string? type = null;
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.TokenType == JsonTokenType.String ? reader.GetString() : type;
            }
            else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }
        }

        ErrorType = type ?? "error";
    }

    /// <summary>Keeps text, thinking and tool inputs' strings, only for estimation; cheap because the body is already here.</summary>
    private void CollectText(ref Utf8JsonReader reader) =>
        AnswerText.Collect(ref reader, OutputText, static (ref Utf8JsonReader r) => r.ValueTextEquals("text"u8) || r.ValueTextEquals("thinking"u8));
}
