using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Providers.Json;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Ollama;

/// <summary>Meters Ollama's native API (<c>ollama</c>): <c>/api/chat</c> and <c>/api/generate</c> (NDJSON streams, the default,
/// or one JSON object with <c>"stream": false</c>) and <c>/api/embed</c>.</summary>
internal sealed class OllamaProtocol(OllamaProtocolOptions options) : ITokenUsageProtocol
{
    public const string ProviderName = "ollama";

    public string Name => ProviderName;

    internal static string? Operation(string path) => path.TrimEnd('/') switch
    {
        var p when p.EndsWith("/api/chat", StringComparison.Ordinal) => "chat",
        var p when p.EndsWith("/api/generate", StringComparison.Ordinal) => "text_completion",
        var p when p.EndsWith("/api/embed", StringComparison.Ordinal) => "embeddings",
        _ => null,
    };

    public bool CanHandle(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Post || request.RequestUri is not { IsAbsoluteUri: true } uri || Operation(uri.AbsolutePath) is null)
        {
            return false;
        }

        return options.MatchAnyHost || uri.Port == 11434 || options.Hosts.Any(h =>
            h.Equals(uri.Host, StringComparison.OrdinalIgnoreCase)
            || h.Equals(uri.Host + ":" + uri.Port.ToString(CultureInfo.InvariantCulture), StringComparison.OrdinalIgnoreCase));
    }

    public async ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken)
    {
        var operation = Operation(context.Request.RequestUri!.AbsolutePath);
        context.Operation = operation;
        var body = await context.GetRequestBodyAsync(cancellationToken).ConfigureAwait(false);
        if (body is { Length: > 0 } json)
        {
            var (model, stream) = RequestFields.Read(json.Span);
            context.RequestModel = model;

            // Ollama streams unless told not to.
            context.IsStreaming = operation != "embeddings" && stream != false;
        }
    }

    public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is not null && !mediaType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var max = context.IsStreaming ? context.Options.MaxSseEventBytes : context.Options.MaxInspectedResponseBytes;
        return new OllamaResponseReader(max, keepTail: !context.IsStreaming);
    }
}

/// <summary>Reads Ollama answers, one JSON object or NDJSON lines: <c>model</c>, <c>message.content</c>/<c>response</c>,
/// and on the last line (<c>"done": true</c>, the terminal event) <c>prompt_eval_count</c> (input) and <c>eval_count</c>
/// (output, thinking included; Ollama reports no separate reasoning count).</summary>
/// <remarks>The counts come once, on the last line: last value wins. Ollama omits <c>prompt_eval_count</c> when the whole prompt
/// was served from its cache, so input is then unknown (null), not 0. <c>{"error": "..."}</c> (as the body or a line) is an error.</remarks>
internal class OllamaResponseReader(int maxDocumentBytes, bool keepTail = false) : JsonDocumentReader(DocumentFraming.Objects, maxDocumentBytes)
{
    // A non-streamed body larger than the document limit (an /api/embed answer with many vectors) is dropped by the framer;
    // its counts, written after the content, are found in the tail.
    private readonly BodyTail? _tail = keepTail ? new BodyTail(maxDocumentBytes) : null;

    public string? DoneReason { get; private set; }

    public override void Write(ReadOnlySpan<byte> data)
    {
        _tail?.Write(data);
        base.Write(data);
    }

    public override void Complete()
    {
        base.Complete();
        if (Usage is null && _tail is { Exceeded: true } tail)
        {
            var input = ReadNumber(BodyTail.ValueAfter(tail.Tail, "\"prompt_eval_count\""u8));
            var output = ReadNumber(BodyTail.ValueAfter(tail.Tail, "\"eval_count\""u8));
            if (input is not null || output is not null)
            {
                Usage = new TokenUsage { InputTokenCount = input, OutputTokenCount = output };
                Completed = true;
            }
        }
    }

    public override void Dispose()
    {
        _tail?.Dispose();
        base.Dispose();
    }

    private static long? ReadNumber(ReadOnlySpan<byte> value)
    {
        var end = value.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        var digits = end < 0 ? value : value[..end];

        // Only a number followed by a delimiter (not one cut at the end of the tail) counts.
        return end > 0 && System.Buffers.Text.Utf8Parser.TryParse(digits, out long n, out var used) && used == digits.Length ? n : null;
    }

    protected override void OnDocument(ReadOnlySpan<byte> json, ReadOnlySpan<byte> eventType)
    {
        var reader = new Utf8JsonReader(json, JsonScan.Options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }

        long? input = null, output = null;
        var done = false;
        var embeddings = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_eval_count"u8))
            {
                reader.Read();
                input = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("eval_count"u8))
            {
                reader.Read();
                output = JsonText.ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("done"u8))
            {
                reader.Read();
                done = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("done_reason"u8))
            {
                reader.Read();
                DoneReason = reader.TokenType == JsonTokenType.String ? reader.GetString() : DoneReason;
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                ResponseModel ??= reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                ErrorType = "error";
                reader.Skip();
            }
            else if (reader.ValueTextEquals("embeddings"u8))
            {
                reader.Read();
                embeddings = true;
                reader.Skip();
            }
            else if (Usage is null && (reader.ValueTextEquals("response"u8) || reader.ValueTextEquals("message"u8)))
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

        if (input is not null || output is not null)
        {
            Usage = (Usage ?? TokenUsage.Empty).MergeLatest(new TokenUsage { InputTokenCount = input, OutputTokenCount = output });
        }

        if (done || embeddings)
        {
            Completed = true;
        }
    }

    private void CollectText(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            OutputText.AppendJsonEscaped(reader.ValueSpan);
            return;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.PropertyName && (reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("thinking"u8)))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    OutputText.AppendJsonEscaped(reader.ValueSpan);
                }
            }
        }
    }
}
