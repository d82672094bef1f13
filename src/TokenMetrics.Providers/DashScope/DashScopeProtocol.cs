using System.Linq;
using System.Net.Http;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Providers.Json;
using TokenMetrics.Providers.OpenAI;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.DashScope;

/// <summary>Meters DashScope's native generation API (<c>dashscope</c>): JSON bodies and SSE streams
/// (<c>X-DashScope-SSE: enable</c>), with or without <c>incremental_output</c>.</summary>
internal sealed class DashScopeProtocol(DashScopeProtocolOptions options) : ITokenUsageProtocol
{
    public const string ProviderName = "dashscope";

    public string Name => ProviderName;

    public static bool IsGenerationPath(string path) =>
        path.EndsWith("/services/aigc/text-generation/generation", StringComparison.Ordinal)
        || path.EndsWith("/services/aigc/multimodal-generation/generation", StringComparison.Ordinal);

    public bool CanHandle(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Post || request.RequestUri is not { IsAbsoluteUri: true } uri || !IsGenerationPath(uri.AbsolutePath))
        {
            return false;
        }

        var host = uri.Host;
        return options.MatchAnyHost
            || host.EndsWith(".aliyuncs.com", StringComparison.OrdinalIgnoreCase)
            || options.Hosts.Any(h => host.Equals(h, StringComparison.OrdinalIgnoreCase));
    }

    public async ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken)
    {
        context.Operation = "chat";
        context.IsStreaming = context.Request.Headers.TryGetValues("X-DashScope-SSE", out var sse) && sse.Any(v => v.Equals("enable", StringComparison.OrdinalIgnoreCase));
        var body = await context.GetRequestBodyAsync(cancellationToken).ConfigureAwait(false);
        if (body is { Length: > 0 } json)
        {
            context.RequestModel = RequestFields.Read(json.Span).Model;
        }
    }

    public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response)
    {
        if (TokenUsageProtocolContext.IsMediaType(response.Content.Headers, "text/event-stream"))
        {
            context.IsStreaming = true;
            return new DashScopeResponseReader(DocumentFraming.Sse, context.Options.MaxSseEventBytes, streaming: true);
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        return mediaType is null || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)
            ? new DashScopeResponseReader(DocumentFraming.Objects, context.Options.MaxInspectedResponseBytes, streaming: false)
            : null;
    }
}

/// <summary>Reads DashScope native answers: <c>output</c> (<c>choices[].message</c> with <c>result_format: message</c>, or
/// <c>text</c>), <c>usage {input_tokens, output_tokens, total_tokens, prompt_tokens_details, output_tokens_details}</c>, <c>request_id</c>.</summary>
/// <remarks>Streamed usage is cumulative per event (also with <c>incremental_output</c>, which makes only the text incremental):
/// the last value per field wins. A stream is complete when a <c>finish_reason</c> other than the string <c>"null"</c> arrives.
/// Usage is read before <c>choices</c>: a final event without choices (the case the Higress Qwen guard drops) still counts.
/// An <c>event:error</c> or a body with a <c>code</c> and no <c>output</c> is an error, typed by <c>code</c>.</remarks>
internal class DashScopeResponseReader(DocumentFraming framing, int maxDocumentBytes, bool streaming) : JsonDocumentReader(framing, maxDocumentBytes)
{
    // A non-streamed body larger than the document limit is dropped by the framer; its usage (written last) is found in the tail.
    private readonly BodyTail? _tail = streaming ? null : new BodyTail(maxDocumentBytes);

    public string? FinishReason { get; private set; }

    public override void Write(ReadOnlySpan<byte> data)
    {
        _tail?.Write(data);
        base.Write(data);
    }

    public override void Complete()
    {
        base.Complete();
        if (Usage is null && _tail is { Exceeded: true } tail && BodyTail.ValueAfter(tail.Tail, "\"usage\""u8) is { IsEmpty: false } usage)
        {
            try
            {
                Usage = OpenAIUsage.Parse(usage);
                Completed |= Usage is not null;
            }
            catch (JsonException)
            {
                // The tail was cut inside the usage object: nothing to read.
            }
        }
    }

    public override void Dispose()
    {
        _tail?.Dispose();
        base.Dispose();
    }

    protected override void OnDocument(ReadOnlySpan<byte> json, ReadOnlySpan<byte> eventType)
    {
        var reader = new Utf8JsonReader(json, JsonScan.Options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }

        string? code = null;
        var hasOutput = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                Usage = (Usage ?? TokenUsage.Empty).MergeLatest(OpenAIUsage.Parse(ref reader));
            }
            else if (reader.ValueTextEquals("output"u8))
            {
                reader.Read();
                hasOutput = true;
                ReadOutput(ref reader);
            }
            else if (reader.ValueTextEquals("request_id"u8))
            {
                reader.Read();
                ResponseId ??= reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                code = reader.TokenType == JsonTokenType.String ? reader.GetString() : code;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (eventType.SequenceEqual("error"u8) || (!hasOutput && !string.IsNullOrEmpty(code)))
        {
            ErrorType = string.IsNullOrEmpty(code) ? "error" : code;
        }

        if (!streaming && hasOutput)
        {
            Completed = true;
        }
    }

    private void ReadOutput(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        var depth = reader.CurrentDepth;
        var collect = Usage is null;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("finish_reason"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && !reader.ValueTextEquals("null"u8) && reader.ValueSpan.Length > 0)
                {
                    FinishReason = reader.GetString();
                    Completed = true;
                }
            }
            else if (collect && (reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("reasoning_content"u8)))
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
