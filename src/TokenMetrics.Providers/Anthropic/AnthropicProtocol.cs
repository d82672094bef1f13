using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Internal;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>The Anthropic Messages API (<c>POST /v1/messages</c>), streamed and not, on api.anthropic.com and gateways.</summary>
internal sealed class AnthropicProtocol(AnthropicProtocolOptions options) : ITokenUsageProtocol
{
    public const string ProviderName = "anthropic";

    public string Name => ProviderName;

    public bool CanHandle(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Post || request.RequestUri is not { IsAbsoluteUri: true } uri)
        {
            return false;
        }

        var target = EndpointCache.Get(uri)!;
        var path = target.Path.AsSpan().TrimEnd('/');
        if (!path.EndsWith("/messages", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var host = target.Host;
        if (path.EndsWith("/v1/messages", StringComparison.OrdinalIgnoreCase)
            && (host.Equals("api.anthropic.com", StringComparison.OrdinalIgnoreCase) || options.Hosts.Contains(host, StringComparer.OrdinalIgnoreCase)))
        {
            return true;
        }

        return options.MatchVersionHeader && request.Headers.Contains("anthropic-version");
    }

    public async ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken)
    {
        context.Operation = "chat";
        var host = EndpointCache.Host(context.Request.RequestUri!);
        context.Provider = host.Equals("api.anthropic.com", StringComparison.OrdinalIgnoreCase) ? ProviderName : options.CompatibleProviderName;
        var body = await context.GetRequestBodyAsync(cancellationToken).ConfigureAwait(false);
        if (body is { Length: > 0 } json)
        {
            var info = AnthropicRequestInfo.Parse(json.Span);
            context.RequestModel = info.Model;
            context.IsStreaming = info.Stream;
        }
    }

    public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response) => CreateReader(context, response);

    /// <summary>An SSE reader for event streams, a JSON reader for JSON (or untyped) bodies, nothing otherwise.</summary>
    internal static TokenUsageResponseReader? CreateReader(TokenUsageProtocolContext context, HttpResponseMessage response)
    {
        if (TokenUsageProtocolContext.IsMediaType(response.Content.Headers, "text/event-stream"))
        {
            context.IsStreaming = true;
            return new AnthropicStreamReader(context.Options.MaxSseEventBytes);
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        return mediaType is null || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)
            ? new AnthropicJsonReader(context.Options.MaxInspectedResponseBytes)
            : null;
    }
}
