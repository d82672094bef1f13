using System.Linq;
using System.Net.Http;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Providers.Json;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.DeepL;

/// <summary>Meters DeepL text translation (<c>deepl</c>, operation <c>translate</c>).</summary>
/// <remarks>
/// <para>DeepL bills <em>characters</em> (Unicode code points of the source text), a unit that is not a token. The reader puts the
/// sum of <c>translations[].billed_characters</c> in <see cref="TokenUsage.InputTokenDetails"/> under
/// <see cref="DeepLProtocolOptions.BilledCharactersDetail"/> and leaves every token count <see langword="null"/>: inventing tokens
/// from characters would make a billed figure up. A usage without token counts is not "reported" token usage, so the record's
/// source is <see cref="TokenUsageSource.Missing"/> (or <see cref="TokenUsageSource.Estimated"/> when estimation is on), never
/// <see cref="TokenUsageSource.Reported"/> with null counts.</para>
/// <para>DeepL sends <c>billed_characters</c> only when the request sets <c>show_billed_characters: true</c>; the request is not changed.
/// JSON requests only: legacy form-encoded requests are metered without a model.</para>
/// </remarks>
internal sealed class DeepLProtocol(DeepLProtocolOptions options) : ITokenUsageProtocol
{
    public const string ProviderName = "deepl";

    public string Name => ProviderName;

    public bool CanHandle(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Post || request.RequestUri is not { IsAbsoluteUri: true } uri
            || !uri.AbsolutePath.TrimEnd('/').EndsWith("/v2/translate", StringComparison.Ordinal))
        {
            return false;
        }

        var host = uri.Host;
        return host.Equals("api.deepl.com", StringComparison.OrdinalIgnoreCase)
            || host.Equals("api-free.deepl.com", StringComparison.OrdinalIgnoreCase)
            || options.Hosts.Any(h => host.Equals(h, StringComparison.OrdinalIgnoreCase));
    }

    public async ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken)
    {
        context.Operation = "translate";
        if (context.Request.Content?.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) != true)
        {
            return;
        }

        var body = await context.GetRequestBodyAsync(cancellationToken).ConfigureAwait(false);
        if (body is { Length: > 0 } json)
        {
            context.RequestModel = RequestFields.Read(json.Span, "model_type"u8).Model;
        }
    }

    public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        return mediaType is null || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)
            ? new DeepLResponseReader(context.Options.MaxInspectedResponseBytes)
            : null;
    }
}

/// <summary>Reads <c>{"translations":[{"detected_source_language","text","billed_characters","model_type_used"}]}</c>.</summary>
internal sealed class DeepLResponseReader(int maxDocumentBytes) : JsonDocumentReader(DocumentFraming.Objects, maxDocumentBytes)
{
    /// <summary>Gets the billed characters (summed over the translations of this one call), or <see langword="null"/>.</summary>
    public long? BilledCharacters { get; private set; }

    protected override void OnDocument(ReadOnlySpan<byte> json, ReadOnlySpan<byte> eventType)
    {
        var reader = new Utf8JsonReader(json, JsonScan.Options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }

        var translations = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("translations"u8))
            {
                reader.Read();
                translations = reader.TokenType == JsonTokenType.StartArray;
                var depth = reader.CurrentDepth;
                while (translations && reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
                {
                    if (reader.TokenType != JsonTokenType.PropertyName)
                    {
                        continue;
                    }

                    if (reader.ValueTextEquals("billed_characters"u8))
                    {
                        reader.Read();
                        if (JsonText.ReadCount(ref reader) is { } n)
                        {
                            // Separate texts of one request: their characters add up.
                            BilledCharacters = (BilledCharacters ?? 0) + n;
                        }
                    }
                    else if (reader.ValueTextEquals("model_type_used"u8))
                    {
                        reader.Read();
                        ResponseModel ??= reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                ErrorType = "error";
                reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (translations)
        {
            Completed = true;
        }

        if (BilledCharacters is { } chars)
        {
            var details = new TokenCountDictionary();
            details.Set(DeepLProtocolOptions.BilledCharactersDetail, chars);
            Usage = new TokenUsage { InputTokenDetails = details };
        }
    }
}
