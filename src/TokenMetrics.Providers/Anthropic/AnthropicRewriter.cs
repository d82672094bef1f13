using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>Rewrites OpenAI Chat Completions requests to the Anthropic Messages API, and Anthropic's answers (JSON, event
/// streams and errors) back to OpenAI's format, so an app written for OpenAI talks to Claude by configuration alone.</summary>
/// <remarks>Endpoint: <see cref="TokenMetricsRewriteOptions.Endpoint"/> or <c>https://api.anthropic.com/</c>, path <c>v1/messages</c>.
/// Headers: <c>x-api-key</c> (the configured key, else the app's, moved off its OpenAI header) and <c>anthropic-version</c>
/// (<c>Settings["Version"]</c>, default <c>2023-06-01</c>).</remarks>
internal sealed class AnthropicRewriter(TimeProvider timeProvider) : ITokenUsageRewriter
{
    private static readonly Uri DefaultEndpoint = new("https://api.anthropic.com/");

    public string Name => AnthropicProtocol.ProviderName;

    public bool CanHandle(HttpRequestMessage request) =>
        request.Method == HttpMethod.Post && request.RequestUri is { IsAbsoluteUri: true } uri
        && uri.AbsolutePath.AsSpan().TrimEnd('/').EndsWith("/chat/completions", StringComparison.OrdinalIgnoreCase);

    public async ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken)
    {
        var body = await context.GetRequestBodyAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new NotSupportedException("Rewriting to anthropic: the request body could not be read (streamed or too large).");
        var rewrite = context.Options.Rewrite;
        var chat = OpenAIChatRequest.Parse(body.Span, rewrite);
        var bytes = AnthropicRequestBuilder.Build(chat, rewrite);

        var request = context.Request;
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
        context.ReplaceRequestBody(bytes);
        request.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        context.Provider = AnthropicProtocol.ProviderName;
        context.Operation = "chat";
        context.RequestModel = chat.RequestModel;
        context.RoutedModel = chat.RoutedModel;
        context.IsStreaming = chat.Stream;
        context.ProtocolState = new AnswerState(chat.IncludeUsage, chat.RoutedModel, timeProvider.GetUtcNow().ToUnixTimeSeconds());
    }

    public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response)
    {
        var state = context.ProtocolState as AnswerState ?? new AnswerState(false, context.RoutedModel ?? "unknown", timeProvider.GetUtcNow().ToUnixTimeSeconds());
        if (!response.IsSuccessStatusCode)
        {
            return new VendorErrorReader((int)response.StatusCode, null, context.Options.MaxInspectedResponseBytes);
        }

        return TokenUsageProtocolContext.IsMediaType(response.Content.Headers, "text/event-stream")
            ? new AnthropicToOpenAIStreamReader(state, context.Options.MaxSseEventBytes)
            : new AnthropicToOpenAIJsonReader(state, context.Options.MaxInspectedResponseBytes);
    }

    internal static Uri EnsureSlash(Uri endpoint) =>
        endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
}
