using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Bedrock;

/// <summary>Rewrites OpenAI Chat Completions requests to Bedrock Converse (or ConverseStream when the app streams), and the
/// answers (JSON, event streams, errors) back to OpenAI's format.</summary>
/// <remarks>
/// <para>Endpoint: <see cref="TokenMetricsRewriteOptions.Endpoint"/> or <c>https://bedrock-runtime.{Settings["Region"]}.amazonaws.com/</c>,
/// path <c>model/{routed model, URL-encoded}/converse[-stream]</c>.</para>
/// <para>Auth (Higress ai-proxy order): a bearer key (<see cref="TokenMetricsRewriteOptions.ApiKey"/> or <c>Settings["BearerToken"]</c>)
/// wins; else SigV4 with <c>Settings["AccessKeyId"]</c>, <c>["SecretAccessKey"]</c>, <c>["SessionToken"]</c> and <c>["Region"]</c>;
/// else the key the app sent, as a bearer key. The app's OpenAI headers are always removed.</para>
/// </remarks>
internal sealed class BedrockRewriter(TimeProvider timeProvider) : OpenAIChatRewriter(timeProvider)
{
    public override string Name => BedrockProtocol.ProviderName;

    protected override StringComparison PathComparison => StringComparison.OrdinalIgnoreCase;

    protected override byte[] BuildBody(OpenAIChatRequest chat, TokenMetricsRewriteOptions rewrite) => BedrockRequestBuilder.Build(chat);

    protected override void Route(HttpRequestMessage request, OpenAIChatRequest chat, TokenMetricsRewriteOptions rewrite, byte[] body)
    {
        var settings = rewrite.Settings;
        var region = settings.TryGetValue("Region", out var r) && r.Length > 0 ? r : null;
        var endpoint = rewrite.Endpoint ?? (region is null
            ? throw new InvalidOperationException("Rewriting to aws.bedrock needs Rewrite.Endpoint or Rewrite.Settings[\"Region\"].")
            : new Uri($"https://bedrock-runtime.{region}.amazonaws.com/"));

        var action = chat.Stream ? "converse-stream" : "converse";
        request.RequestUri = new Uri(EnsureSlash(endpoint), "model/" + Uri.EscapeDataString(chat.RoutedModel) + "/" + action);
        request.Headers.AcceptEncoding.Clear();
        request.Headers.Accept.Clear();
        request.Headers.Accept.ParseAdd(chat.Stream ? "application/vnd.amazon.eventstream" : "application/json");
        request.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var appKey = ApiKeys.Take(request, rewrite);
        var bearer = rewrite.ApiKey ?? (settings.TryGetValue("BearerToken", out var token) && token.Length > 0 ? token : null);
        if (bearer is null && settings.TryGetValue("AccessKeyId", out var accessKey) && settings.TryGetValue("SecretAccessKey", out var secret))
        {
            var sessionToken = settings.TryGetValue("SessionToken", out var st) && st.Length > 0 ? st : null;
            var time = TimeProvider.GetUtcNow();
            var signingRegion = region ?? RegionFromHost(request.RequestUri.Host)
                ?? throw new InvalidOperationException("Rewriting to aws.bedrock with SigV4 needs Rewrite.Settings[\"Region\"].");
            var authorization = SigV4.Authorization("POST", request.RequestUri, [new("content-type", "application/json")], body, accessKey, secret, sessionToken, signingRegion, "bedrock", time);
            request.Headers.TryAddWithoutValidation("X-Amz-Date", SigV4.AmzDate(time));
            if (sessionToken is not null)
            {
                request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", sessionToken);
            }

            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        else if ((bearer ?? appKey) is { } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }

    protected override TokenUsageResponseReader CreateAnswerReader(TokenUsageProtocolContext context, HttpResponseMessage response, RewriteState state)
    {
        var requestId = BedrockProtocol.RequestId(response);
        if (!response.IsSuccessStatusCode)
        {
            var type = response.Headers.TryGetValues("x-amzn-ErrorType", out var values) ? values.FirstOrDefault() : null;
            return new VendorErrorReader((int)response.StatusCode, type, context.Options.MaxInspectedResponseBytes);
        }

        return TokenUsageProtocolContext.IsMediaType(response.Content.Headers, "application/vnd.amazon.eventstream")
            ? new BedrockToOpenAIStreamReader(state, requestId)
            : new BedrockToOpenAIJsonReader(state, requestId, context.Options.MaxInspectedResponseBytes);
    }

    /// <summary><c>bedrock-runtime.us-east-1.amazonaws.com</c> → <c>us-east-1</c>.</summary>
    internal static string? RegionFromHost(string host)
    {
        if (!BedrockEndpoint.IsRuntimeHost(host))
        {
            return null;
        }

        var parts = host.Split('.');
        return parts.Length > 2 ? parts[1] : null;
    }
}
