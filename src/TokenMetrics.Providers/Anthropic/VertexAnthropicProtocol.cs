using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Internal;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>Claude on Google Vertex AI: <c>POST https://{region}-aiplatform.googleapis.com/v1/projects/{p}/locations/{l}/publishers/anthropic/models/{m}:rawPredict</c>
/// (a Messages JSON body) and <c>:streamRawPredict</c> (Messages server-sent events). The model is in the path, not the body.</summary>
internal sealed class VertexAnthropicProtocol : ITokenUsageProtocol
{
    public const string ProviderName = "gcp.vertex_ai";

    private const string Marker = "/publishers/anthropic/models/";

    public string Name => ProviderName;

    public bool CanHandle(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Post || request.RequestUri is not { IsAbsoluteUri: true } uri)
        {
            return false;
        }

        var path = EndpointCache.Path(uri);
        return path.Contains(Marker, StringComparison.OrdinalIgnoreCase)
            && (path.EndsWith(":rawPredict", StringComparison.OrdinalIgnoreCase) || path.EndsWith(":streamRawPredict", StringComparison.OrdinalIgnoreCase));
    }

    public async ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken)
    {
        context.Operation = "chat";
        var path = EndpointCache.Path(context.Request.RequestUri!);
        context.RequestModel = ModelFromPath(path);
        context.IsStreaming = path.EndsWith(":streamRawPredict", StringComparison.OrdinalIgnoreCase);
        var body = await context.GetRequestBodyAsync(cancellationToken).ConfigureAwait(false);
        if (body is { Length: > 0 } json)
        {
            var info = AnthropicRequestInfo.Parse(json.Span);
            context.IsStreaming |= info.Stream;
            context.RequestModel ??= info.Model;
        }
    }

    public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response) =>
        AnthropicProtocol.CreateReader(context, response);

    /// <summary>The <c>{m}</c> of <c>.../publishers/anthropic/models/{m}:action</c>, URL-decoded (<c>claude-sonnet-4@20250514</c>).</summary>
    internal static string? ModelFromPath(string path)
    {
        var at = path.IndexOf(Marker, StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return null;
        }

        var start = at + Marker.Length;
        var end = path.IndexOf(':', start);
        return end > start ? Uri.UnescapeDataString(path[start..end]) : null;
    }
}
