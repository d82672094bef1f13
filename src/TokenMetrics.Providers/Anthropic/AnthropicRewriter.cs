using System.Net.Http;
using System.Net.Http.Headers;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>Rewrites OpenAI Chat Completions requests to the Anthropic Messages API, and Anthropic's answers (JSON, event
/// streams and errors) back to OpenAI's format, so an app written for OpenAI talks to Claude by configuration alone.</summary>
/// <remarks>Endpoint: <see cref="TokenMetricsRewriteOptions.Endpoint"/> or <c>https://api.anthropic.com/</c>, path <c>v1/messages</c>.
/// Headers: <c>x-api-key</c> (the configured key, else the app's, moved off its OpenAI header) and <c>anthropic-version</c>
/// (<c>Settings["Version"]</c>, default <c>2023-06-01</c>).</remarks>
internal sealed class AnthropicRewriter(TimeProvider timeProvider) : OpenAIChatRewriter(timeProvider)
{
    private static readonly Uri DefaultEndpoint = new("https://api.anthropic.com/");

    public override string Name => AnthropicProtocol.ProviderName;

    protected override StringComparison PathComparison => StringComparison.OrdinalIgnoreCase;

    protected override byte[] BuildBody(OpenAIChatRequest chat, TokenMetricsRewriteOptions rewrite) => AnthropicRequestBuilder.Build(chat, rewrite);

    protected override void Route(HttpRequestMessage request, OpenAIChatRequest chat, TokenMetricsRewriteOptions rewrite, byte[] body)
    {
        request.RequestUri = new Uri(EnsureSlash(rewrite.Endpoint ?? DefaultEndpoint), "v1/messages");
        var key = ApiKeys.Take(request, rewrite);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("x-api-key", key);
        }

        request.Headers.Remove("anthropic-version");
        request.Headers.TryAddWithoutValidation("anthropic-version", rewrite.Settings.TryGetValue("Version", out var version) ? version : "2023-06-01");

        // The answer is transformed, which needs it uncompressed.
        request.Headers.AcceptEncoding.Clear();
        request.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");
    }

    protected override TokenUsageResponseReader CreateAnswerReader(TokenUsageProtocolContext context, HttpResponseMessage response, RewriteState state)
    {
        if (!response.IsSuccessStatusCode)
        {
            return new VendorErrorReader((int)response.StatusCode, null, context.Options.MaxInspectedResponseBytes);
        }

        return TokenUsageProtocolContext.IsMediaType(response.Content.Headers, "text/event-stream")
            ? new AnthropicToOpenAIStreamReader(state, context.Options.MaxSseEventBytes)
            : new AnthropicToOpenAIJsonReader(state, context.Options.MaxInspectedResponseBytes);
    }
}
