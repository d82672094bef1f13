using System.Text.Json;
using TokenMetrics.Providers.Json;

namespace TokenMetrics.Providers.OpenAI;

/// <summary>Reads a non-streamed OpenAI JSON body: keeps it (bounded) as the app reads it, and scans it once at the end for
/// <c>usage</c>, <c>model</c>, <c>id</c> and <c>error</c> with <see cref="Utf8JsonReader"/>, without deserializing it.</summary>
/// <remarks>Past the limit (huge embedding batches) only the head and a tail window are kept: OpenAI writes <c>usage</c> last,
/// so it is still found; nothing is ever buffered without bound.</remarks>
internal sealed class OpenAIJsonReader(int maxBytes) : TokenUsageResponseReader, IDisposable
{
    private BoundedBody _body = new(maxBytes);

    public override void Write(ReadOnlySpan<byte> data) => _body.Write(data);

    public override void Complete()
    {
        if (_body.Overflowed)
        {
            CompleteFromHeadAndTail();
            return;
        }

        var json = _body.Body;
        if (json.IsEmpty)
        {
            return;
        }

        try
        {
            Scan(json, collectText: false);
            Completed = true;
        }
        catch (JsonException)
        {
            // Cut or not JSON: keep whatever was found before the bad byte.
        }

        if (Capture is { } capture)
        {
            OpenAIContent.ObserveBody(json, capture);
        }

        if (Usage is null)
        {
            // Only now is the answer text worth keeping: a second pass, for the estimate.
            try
            {
                Scan(json, collectText: true);
            }
            catch (JsonException)
            {
            }
        }
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
                Usage = OpenAIUsage.Parse(ref reader) ?? Usage;
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
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                ReadError(ref reader);
            }
            else if (reader.ValueTextEquals("status"u8))
            {
                // Responses API: "failed" is an error even with HTTP 200.
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("failed"u8))
                {
                    ErrorType ??= "failed";
                }
            }
            else if (collectText && (reader.ValueTextEquals("choices"u8) || reader.ValueTextEquals("output"u8)))
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
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        string? type = null;
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            var depth = reader.CurrentDepth;
            while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 && (reader.ValueTextEquals("type"u8) || reader.ValueTextEquals("code"u8)))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        type ??= reader.GetString();
                    }
                }
                else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                }
            }
        }
        else
        {
            reader.Skip();
        }

        ErrorType = type ?? "error";
    }

    /// <summary>Keeps the answer text (message content, tool arguments, output_text), only for estimation.</summary>
    private void CollectText(ref Utf8JsonReader reader) =>
        AnswerText.Collect(ref reader, OutputText, static (ref Utf8JsonReader r) => r.ValueTextEquals("content"u8) || r.ValueTextEquals("text"u8) || r.ValueTextEquals("arguments"u8) || r.ValueTextEquals("refusal"u8));

    private void CompleteFromHeadAndTail()
    {
        // We saw the whole body but could not keep it; the answer is complete if it ended.
        Completed = true;
        var head = _body.Body;
        if (FindStringValue(head, "\"model\":\""u8) is { } model)
        {
            ResponseModel = model;
        }

        if (FindStringValue(head, "\"id\":\""u8) is { } id)
        {
            ResponseId = id;
        }

        var tail = _body.Tail;
        var at = tail.LastIndexOf("\"usage\":"u8);
        if (at < 0)
        {
            return;
        }

        try
        {
            Usage = OpenAIUsage.Parse(tail[(at + 8)..].TrimStart(" \t\r\n"u8)) ?? Usage;
        }
        catch (JsonException)
        {
        }
    }

    private static string? FindStringValue(ReadOnlySpan<byte> json, ReadOnlySpan<byte> prefix)
    {
        var at = json.IndexOf(prefix);
        if (at < 0)
        {
            return null;
        }

        var start = at + prefix.Length;
        var end = JsonText.FindStringEnd(json, start);
        return end < 0 ? null : JsonText.UnescapeFragments(json[start..end]);
    }
}
