using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Internal;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Gemini;

/// <summary>Meters Gemini API (<c>gcp.gemini</c>) and Vertex AI (<c>gcp.vertex_ai</c>) <c>generateContent</c> and
/// <c>streamGenerateContent</c> calls, streamed as SSE (<c>alt=sse</c>) or as a JSON array.</summary>
/// <remarks>The model comes from the path; the request body is not read. Vertex AI Express keys travel as <c>?key=</c>: the
/// query is never read, and records keep only scheme, host, port and path.</remarks>
internal sealed class GeminiProtocol(GeminiProtocolOptions options) : ITokenUsageProtocol
{
    public const string GeminiName = "gcp.gemini";
    public const string VertexName = "gcp.vertex_ai";

    public string Name => GeminiName;

    public bool CanHandle(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Post || request.RequestUri is not { IsAbsoluteUri: true } uri)
        {
            return false;
        }

        var target = EndpointCache.Get(uri)!;
        var host = target.Host;
        if (!options.MatchAnyHost && !GeminiEndpoint.IsGeminiHost(host) && !GeminiEndpoint.IsVertexHost(host)
            && !options.Hosts.Contains(host, StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        return GeminiEndpoint.TryParse(target.Path, out _, out _, out _);
    }

    public ValueTask OnRequestAsync(TokenUsageProtocolContext context, CancellationToken cancellationToken)
    {
        var target = EndpointCache.Get(context.Request.RequestUri!)!;
        if (GeminiEndpoint.TryParse(target.Path, out var model, out var streaming, out var vertex))
        {
            context.RequestModel = model;
            context.IsStreaming = streaming;
            context.Operation = "chat";
            context.Provider = GeminiEndpoint.IsVertexHost(target.Host) || vertex ? VertexName : GeminiName;
        }

        return ValueTask.CompletedTask;
    }

    public TokenUsageResponseReader? CreateResponseReader(TokenUsageProtocolContext context, HttpResponseMessage response)
    {
        if (TokenUsageProtocolContext.IsMediaType(response.Content.Headers, "text/event-stream"))
        {
            return new GeminiResponseReader(DocumentFraming.Sse, context.Options.MaxSseEventBytes, streaming: true);
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is not null && !mediaType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        // The JSON-array stream is framed element by element; a non-streamed body is one object, read with head and tail windows.
        return context.IsStreaming
            ? new GeminiResponseReader(DocumentFraming.Objects, context.Options.MaxSseEventBytes, streaming: true)
            : new GeminiBodyReader(context.Options.MaxInspectedResponseBytes);
    }
}
