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

    /// <summary>Gets or sets a value indicating whether <see cref="TryScanPlain"/> may read the body (tests turn it off to compare).</summary>
    internal bool FastPath { get; init; } = true;

    /// <summary>Gets a value indicating whether the body was read by <see cref="TryScanPlain"/>.</summary>
    internal bool ReadPlain { get; private set; }

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

        if (FastPath && TryScanPlain(json))
        {
            ReadPlain = true;
            Completed = true;
        }
        else
        {
            try
            {
                Scan(json, collectText: false);
                Completed = true;
            }
            catch (JsonException)
            {
                // Cut or not JSON: keep whatever was found before the bad byte.
            }
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
                reader.Skip(); // a value that is not a string is skipped whole (Skip leaves a scalar where it is)
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                ResponseId = reader.TokenType == JsonTokenType.String ? reader.GetString() : ResponseId;
                reader.Skip();
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

                reader.Skip();
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

    /// <summary>The usual body, read without tokenizing all of it: the top-level members are walked with a <see cref="JsonCursor"/>,
    /// the values not needed are skipped (checked as strict JSON, strings found with a vectorized search), and the usage object
    /// is read by <see cref="OpenAIUsage.TryParsePlain"/>. What it finds is kept only when the whole body is plain, strict JSON
    /// with nothing after it, so <see cref="Scan"/> (the full path) answers everything else, exactly as before.</summary>
    /// <returns><see langword="false"/> when the full path must read the body.</returns>
    private bool TryScanPlain(ReadOnlySpan<byte> json)
    {
        var cursor = new JsonCursor(json);
        if (!cursor.Take((byte)'{'))
        {
            return false;
        }

        var usage = Usage;
        var model = ResponseModel;
        var id = ResponseId;
        var errorType = ErrorType;
        if (!cursor.Take((byte)'}'))
        {
            do
            {
                if (!cursor.TryReadName(out var name))
                {
                    return false;
                }

                if (name.SequenceEqual("usage"u8))
                {
                    var isObject = cursor.Peek() == (byte)'{'; // Peek skips the whitespace: the value starts at Position
                    var start = cursor.Position;
                    if (!cursor.TrySkipValue(MaxPlainDepth))
                    {
                        return false;
                    }

                    if (isObject)
                    {
                        if (!OpenAIUsage.TryParsePlain(json[start..cursor.Position], out var plain))
                        {
                            return false; // the full path reads the rare shapes (and raises what it raises) in order
                        }

                        usage = plain ?? usage;
                    }
                }
                else if (name.SequenceEqual("model"u8) || name.SequenceEqual("id"u8) || name.SequenceEqual("status"u8))
                {
                    if (cursor.Peek() != (byte)'"')
                    {
                        if (!cursor.TrySkipValue(MaxPlainDepth))
                        {
                            return false;
                        }
                    }
                    else if (!cursor.TryReadStrictPlainString(out var text))
                    {
                        return false;
                    }
                    else if (name[0] == (byte)'m')
                    {
                        model = ModelNames.FromPlain(text);
                        if (model is null)
                        {
                            return false;
                        }
                    }
                    else if (name[0] == (byte)'i')
                    {
                        id = JsonText.DecodeValidUtf8(text);
                        if (id is null)
                        {
                            return false;
                        }
                    }
                    else if (text.SequenceEqual("failed"u8))
                    {
                        // Responses API: "failed" is an error even with HTTP 200.
                        errorType ??= "failed";
                    }
                }
                else if (name.SequenceEqual("error"u8) && cursor.Peek() != (byte)'n')
                {
                    return false; // an error other than null takes the full path (it reads the error's type)
                }
                else if (!cursor.TrySkipValue(MaxPlainDepth))
                {
                    return false;
                }
            }
            while (cursor.Take((byte)','));

            if (!cursor.Take((byte)'}'))
            {
                return false;
            }
        }

        if (!cursor.AtEnd())
        {
            return false;
        }

        Usage = usage;
        ResponseModel = model;
        ResponseId = id;
        ErrorType = errorType;
        return true;
    }

    /// <summary>Deeper bodies (rare) take the full path, which has no depth limit; this bounds the fast path's recursion.</summary>
    private const int MaxPlainDepth = 64;

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
