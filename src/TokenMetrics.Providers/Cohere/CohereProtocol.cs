using System.Linq;
using System.Net.Http;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Providers.Json;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Cohere;

/// <summary>Meters Cohere's v2 API (<c>cohere</c>): <c>/v2/chat</c> (JSON, or SSE events ending with <c>message-end</c>) and
/// <c>/v2/embed</c>.</summary>
internal sealed class CohereProtocol(CohereProtocolOptions options) : ITokenUsageProtocol
{
    public const string ProviderName = "cohere";

    public string Name => ProviderName;

    public bool CanHandle(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Post || request.RequestUri is not { IsAbsoluteUri: true } uri)
        {
            return false;
        }

        var path = uri.AbsolutePath.TrimEnd('/');
        if (!path.EndsWith("/v2/chat", StringComparison.Ordinal) && !path.EndsWith("/v2/embed", StringComparison.Ordinal))
        {
            return false;
        }

        var host = uri.Host;
        return host.Equals("api.cohere.com", StringComparison.OrdinalIgnoreCase)
            || host.Equals("api.cohere.ai", StringComparison.OrdinalIgnoreCase)
            || options.Hosts.Any(h => host.Equals(h, StringComparison.OrdinalIgnoreCase));
    }

    public async ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken)
    {
        context.Operation = context.Request.RequestUri!.AbsolutePath.TrimEnd('/').EndsWith("/embed", StringComparison.Ordinal) ? "embeddings" : "chat";
        var body = await context.GetRequestBodyAsync(cancellationToken).ConfigureAwait(false);
        if (body is { Length: > 0 } json)
        {
            var (model, stream) = RequestFields.Read(json.Span);
            context.RequestModel = model;
            context.IsStreaming = stream == true;
        }
    }

    public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response)
    {
        if (TokenUsageProtocolContext.IsMediaType(response.Content.Headers, "text/event-stream"))
        {
            context.IsStreaming = true;
            return new CohereResponseReader(DocumentFraming.Sse, context.Options.MaxSseEventBytes, streaming: true);
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        return mediaType is null || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)
            ? new CohereResponseReader(DocumentFraming.Objects, context.Options.MaxInspectedResponseBytes, streaming: false)
            : null;
    }
}

/// <summary>Reads Cohere v2 answers. Usage: <c>usage.billed_units.{input,output}_tokens</c> are the counts (what Cohere bills),
/// <c>usage.tokens.{input,output}_tokens</c> (everything the model processed, the chat template included) stay in the details as
/// <c>tokens.input_tokens</c>/<c>tokens.output_tokens</c>, <c>usage.cached_tokens</c> is the cached input. Embeddings report
/// <c>meta.billed_units.input_tokens</c>.</summary>
/// <remarks>Streams: usage arrives once, in <c>message-end</c> (the terminal event) under <c>delta.usage</c>, with
/// <c>delta.finish_reason</c>; <c>delta.error</c> or a <c>finish_reason</c> of <c>ERROR</c> is an error.</remarks>
internal class CohereResponseReader(DocumentFraming framing, int maxDocumentBytes, bool streaming) : JsonDocumentReader(framing, maxDocumentBytes)
{
    public string? FinishReason { get; private set; }

    protected override void OnDocument(ReadOnlySpan<byte> json, ReadOnlySpan<byte> eventType)
    {
        var reader = new Utf8JsonReader(json, JsonScan.Options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }

        var isEnd = eventType.SequenceEqual("message-end"u8);
        var sawMessage = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                isEnd |= reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("message-end"u8);
            }
            else if (reader.ValueTextEquals("usage"u8) || reader.ValueTextEquals("meta"u8))
            {
                reader.Read();
                ReadUsage(ref reader);
            }
            else if (reader.ValueTextEquals("delta"u8))
            {
                reader.Read();
                ReadDelta(ref reader);
            }
            else if (reader.ValueTextEquals("finish_reason"u8))
            {
                reader.Read();
                SetFinish(ref reader);
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                ResponseId ??= reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("embeddings"u8))
            {
                reader.Read();
                sawMessage = true;
                if (Usage is null)
                {
                    CollectText(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (!streaming && sawMessage && ErrorType is null)
        {
            Completed = true;
        }

        if (isEnd)
        {
            Completed = true;
        }
    }

    private void SetFinish(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return;
        }

        FinishReason = reader.GetString();
        if (FinishReason == "ERROR")
        {
            ErrorType ??= "ERROR";
        }
    }

    private void ReadDelta(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != depth + 1)
            {
                continue;
            }

            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                ReadUsage(ref reader);
            }
            else if (reader.ValueTextEquals("finish_reason"u8))
            {
                reader.Read();
                SetFinish(ref reader);
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                if (reader.TokenType is not JsonTokenType.Null)
                {
                    ErrorType = "error";
                }

                reader.Skip();
            }
            else if (reader.ValueTextEquals("message"u8) && Usage is null)
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
    }

    /// <summary>Reads <c>usage</c> (or embed's <c>meta</c>): <c>billed_units</c>, <c>tokens</c>, <c>cached_tokens</c>.</summary>
    private void ReadUsage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        long? billedIn = null, billedOut = null, tokensIn = null, tokensOut = null, cached = null;
        TokenCountDictionary? inputDetails = null, outputDetails = null;
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != depth + 1)
            {
                continue;
            }

            var billed = reader.ValueTextEquals("billed_units"u8);
            var tokens = reader.ValueTextEquals("tokens"u8);
            var cachedName = reader.ValueTextEquals("cached_tokens"u8);
            reader.Read();
            if (cachedName)
            {
                cached = JsonText.ReadCount(ref reader);
            }
            else if ((billed || tokens) && reader.TokenType == JsonTokenType.StartObject)
            {
                var inner = reader.CurrentDepth;
                while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == inner))
                {
                    if (reader.TokenType != JsonTokenType.PropertyName)
                    {
                        continue;
                    }

                    var isIn = reader.ValueTextEquals("input_tokens"u8);
                    var isOut = reader.ValueTextEquals("output_tokens"u8);
                    var other = isIn || isOut ? null : reader.GetString();
                    reader.Read();
                    var value = JsonText.ReadCount(ref reader);
                    if (value is not { } v)
                    {
                        continue;
                    }

                    if (isIn)
                    {
                        if (billed)
                        {
                            billedIn = v;
                        }
                        else
                        {
                            tokensIn = v;
                        }
                    }
                    else if (isOut)
                    {
                        if (billed)
                        {
                            billedOut = v;
                        }
                        else
                        {
                            tokensOut = v;
                        }
                    }
                    else if (other is not null)
                    {
                        // search_units, classifications, images...: billed units that are not tokens.
                        (inputDetails ??= new TokenCountDictionary()).Set((billed ? "billed_units." : "tokens.") + other, v);
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        if (tokensIn is { } ti)
        {
            (inputDetails ??= new TokenCountDictionary()).Set("tokens.input_tokens", ti);
        }

        if (billedIn is { } bi)
        {
            (inputDetails ??= new TokenCountDictionary()).Set("billed_units.input_tokens", bi);
        }

        if (tokensOut is { } to)
        {
            (outputDetails ??= new TokenCountDictionary()).Set("tokens.output_tokens", to);
        }

        if (billedOut is { } bo)
        {
            (outputDetails ??= new TokenCountDictionary()).Set("billed_units.output_tokens", bo);
        }

        var usage = new TokenUsage
        {
            InputTokenCount = billedIn ?? tokensIn,
            OutputTokenCount = billedOut ?? tokensOut,
            CachedInputTokenCount = cached,
            InputTokenDetails = inputDetails,
            OutputTokenDetails = outputDetails,
        };
        if (!usage.IsEmpty)
        {
            Usage = (Usage ?? TokenUsage.Empty).MergeLatest(usage);
        }
    }

    private void CollectText(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            reader.Skip();
            return;
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType == JsonTokenType.PropertyName && (reader.ValueTextEquals("text"u8) || reader.ValueTextEquals("thinking"u8) || reader.ValueTextEquals("arguments"u8)))
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
