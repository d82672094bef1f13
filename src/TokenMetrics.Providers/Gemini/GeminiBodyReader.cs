using System.Text.Json;
using TokenMetrics.Providers.Json;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Gemini;

/// <summary>Reads a non-streamed Gemini / Vertex AI body: kept (bounded) as the app reads it and read once at the end.</summary>
/// <remarks>Past <c>MaxInspectedResponseBytes</c> only a head and a tail window are kept. Gemini writes <c>usageMetadata</c>,
/// <c>modelVersion</c> and <c>responseId</c> after the candidates, so the usage of a huge answer (inline image data) is still
/// found in the tail, as for OpenAI.</remarks>
internal sealed class GeminiBodyReader(int maxBytes) : GeminiResponseReader(DocumentFraming.Objects, maxBytes, streaming: false)
{
    private BoundedBody _body = new(maxBytes);
    private bool _done;

    public override void Write(ReadOnlySpan<byte> data) => _body.Write(data);

    public override void Complete()
    {
        if (_done)
        {
            return;
        }

        _done = true;
        if (!_body.Overflowed)
        {
            base.Write(_body.Body);
            base.Complete();
            return;
        }

        // The body ended, but only its tail was kept: take the usage and the ids from there.
        var tail = _body.Tail;
        Completed = true;
        ResponseModel ??= StringAfter(tail, "\"modelVersion\""u8);
        ResponseId ??= StringAfter(tail, "\"responseId\""u8);
        var at = tail.LastIndexOf("\"usageMetadata\""u8);
        var colon = at < 0 ? -1 : tail[at..].IndexOf((byte)':');
        if (colon < 0)
        {
            return;
        }

        try
        {
            var reader = new Utf8JsonReader(tail[(at + colon + 1)..]);
            if (reader.Read())
            {
                Usage = GeminiUsage.Read(ref reader).ToTokenUsage();
            }
        }
        catch (JsonException)
        {
            // A tail cut inside the usage object: the record says the usage is missing or estimated.
        }
    }

    public override void Dispose()
    {
        _body.Dispose();
        base.Dispose();
    }

    private static string? StringAfter(ReadOnlySpan<byte> json, ReadOnlySpan<byte> key)
    {
        var at = json.LastIndexOf(key);
        if (at < 0)
        {
            return null;
        }

        var rest = json[(at + key.Length)..];
        var quote = rest.IndexOf((byte)'"');
        if (quote < 0 || rest[..quote].Trim(" \t\r\n:"u8).Length != 0)
        {
            return null;
        }

        var end = JsonText.FindStringEnd(rest, quote + 1);
        return end < 0 ? null : JsonText.UnescapeFragments(rest[(quote + 1)..end]);
    }
}
