using System.Text.Json;
using TokenMetrics.Providers.Json;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Gemini;

/// <summary>Reads Gemini / Vertex AI <c>generateContent</c> bodies and <c>streamGenerateContent</c> streams, both as server-sent
/// events (<c>alt=sse</c>) and as the incrementally written JSON array (<c>[{...},\r\n{...}]</c>).</summary>
/// <remarks>
/// <para>Every chunk carries a cumulative <c>usageMetadata</c>: the last value per field wins (see <see cref="GeminiUsage"/>).</para>
/// <para>A stream is complete once a candidate has a <c>finishReason</c> (or the prompt was blocked: <c>promptFeedback.blockReason</c>);
/// a non-streamed body is complete once the whole object was read. An <c>error</c> object (in a body or as a stream element)
/// sets <see cref="TokenUsageResponseReader.ErrorType"/> to its <c>status</c> (for example <c>RESOURCE_EXHAUSTED</c>).</para>
/// </remarks>
internal class GeminiResponseReader : JsonDocumentReader
{
    private readonly bool _streaming;
    private GeminiUsage _usage;

    public GeminiResponseReader(DocumentFraming framing, int maxDocumentBytes, bool streaming)
        : base(framing, maxDocumentBytes)
    {
        _streaming = streaming;
    }

    /// <summary>Gets the last <c>finishReason</c> seen.</summary>
    public string? FinishReason { get; private set; }

    /// <summary>Gets the merged raw usage so far.</summary>
    internal GeminiUsage RawUsage => _usage;

    protected override void OnDocument(ReadOnlySpan<byte> json, ReadOnlySpan<byte> eventType)
    {
        var reader = new Utf8JsonReader(json, JsonScan.Options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }

        var blocked = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usageMetadata"u8))
            {
                reader.Read();
                var chunk = GeminiUsage.Read(ref reader, _usage);
                _usage = _usage.MergeLatest(chunk);
            }
            else if (reader.ValueTextEquals("candidates"u8))
            {
                reader.Read();
                ReadCandidates(ref reader);
            }
            else if (reader.ValueTextEquals("modelVersion"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && ResponseModel is null)
                {
                    ResponseModel = reader.GetString();
                }
            }
            else if (reader.ValueTextEquals("responseId"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && ResponseId is null)
                {
                    ResponseId = reader.GetString();
                }
            }
            else if (reader.ValueTextEquals("promptFeedback"u8))
            {
                reader.Read();
                blocked |= HasBlockReason(ref reader);
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                ErrorType = ReadErrorStatus(ref reader);
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

        if (!_streaming || blocked)
        {
            Completed = true;
        }
    }

    protected override void OnEnd() => Usage = _usage.ToTokenUsage();

    /// <summary>Reads a Gemini error object and returns its <c>status</c> (or <c>code</c>).</summary>
    internal static string ReadErrorStatus(ref Utf8JsonReader reader)
    {
        string? status = null;
        string? code = null;
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            var depth = reader.CurrentDepth;
            while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1)
                {
                    var isStatus = reader.ValueTextEquals("status"u8);
                    var isCode = reader.ValueTextEquals("code"u8);
                    reader.Read();
                    if (isStatus && reader.TokenType == JsonTokenType.String)
                    {
                        status = reader.GetString();
                    }
                    else if (isCode && reader.TokenType == JsonTokenType.Number)
                    {
                        code = reader.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
        }
        else
        {
            reader.Skip();
        }

        return status ?? code ?? "error";
    }

    private void ReadCandidates(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        var depth = reader.CurrentDepth;
        var collect = _usage.IsEmpty;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.CurrentDepth == depth + 2 && reader.ValueTextEquals("finishReason"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    FinishReason = reader.GetString();
                    Completed = true;
                }
            }
            else if (collect && reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    OutputText.AppendJsonEscaped(reader.ValueSpan);
                }
            }
            else if (reader.CurrentDepth == depth + 2 && !reader.ValueTextEquals("content"u8))
            {
                // safetyRatings, citationMetadata, logprobs...: nothing to meter.
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static bool HasBlockReason(ref Utf8JsonReader reader)
    {
        var blocked = false;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1)
            {
                blocked |= reader.ValueTextEquals("blockReason"u8);
                reader.Read();
                reader.Skip();
            }
        }

        return blocked;
    }
}
