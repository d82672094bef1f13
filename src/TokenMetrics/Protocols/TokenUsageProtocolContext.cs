using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics;

/// <summary>The state of one metered HTTP call, shared by the handler and the protocol that meters it.</summary>
/// <remarks>Created by <see cref="TokenMetricsHandler"/>; protocols read the request through it and set what they learn.</remarks>
public sealed class TokenUsageProtocolContext
{
    private ReadOnlyMemory<byte>? _requestBody;
    private bool _requestBodyRead;

    internal TokenUsageProtocolContext(HttpRequestMessage request, TokenMetricsHandlerOptions options, ITokenUsageProtocol protocol)
    {
        Request = request;
        Options = options;
        Provider = protocol.Name;
    }

    /// <summary>Gets the outgoing request.</summary>
    public HttpRequestMessage Request { get; }

    /// <summary>Gets the handler options in force for this call.</summary>
    public TokenMetricsHandlerOptions Options { get; }

    /// <summary>Gets or sets the provider name recorded for the call; defaults to <see cref="ITokenUsageProtocol.Name"/>.</summary>
    public string Provider { get; set; }

    /// <summary>Gets or sets the operation (<c>chat</c>, <c>embeddings</c>, <c>text_completion</c>...).</summary>
    public string? Operation { get; set; }

    /// <summary>Gets or sets the model the app asked for.</summary>
    public string? RequestModel { get; set; }

    /// <summary>Gets or sets the model the request was rewritten to, when it was.</summary>
    public string? RoutedModel { get; set; }

    /// <summary>Gets or sets a value indicating whether the app asked for a streamed answer.</summary>
    public bool IsStreaming { get; set; }

    /// <summary>Gets or sets a value indicating whether the protocol asked the vendor for usage the app did not ask for,
    /// so the response reader must withhold it from the app.</summary>
    public bool StreamUsageInjected { get; set; }

    /// <summary>Gets or sets protocol-specific state carried from the request to the response reader.</summary>
    public object? ProtocolState { get; set; }

    /// <summary>Gets the request body read so far by <see cref="GetRequestBodyAsync"/>, if any.</summary>
    public ReadOnlyMemory<byte>? RequestBody => _requestBody;

    /// <summary>Reads the request body once, bounded by <see cref="TokenMetricsHandlerOptions.MaxInspectedRequestBytes"/>.</summary>
    /// <param name="cancellationToken">The app's cancellation token.</param>
    /// <returns>The body, or <see langword="null"/> when there is none, its length is unknown, or it is over the limit.</returns>
    /// <remarks>The content is buffered so that it can still be sent; content of unknown length is never touched, so a
    /// streamed upload is never consumed.</remarks>
    public async ValueTask<ReadOnlyMemory<byte>?> GetRequestBodyAsync(CancellationToken cancellationToken)
    {
        if (_requestBodyRead)
        {
            return _requestBody;
        }

        _requestBodyRead = true;
        var content = Request.Content;
        if (content is null)
        {
            return null;
        }

        var length = content.Headers.ContentLength;
        if (length > Options.MaxInspectedRequestBytes)
        {
            return null;
        }

        if (length is null)
        {
            // Unknown length: only serialized JSON content (JsonContent and the like) is buffered, bounded; a StreamContent
            // may be a one-shot upload and is never touched.
            if (content is StreamContent || content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) != true)
            {
                return null;
            }

            try
            {
                await content.LoadIntoBufferAsync(Options.MaxInspectedRequestBytes, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException)
            {
                return null; // over the limit: the body is sent as it is
            }
        }
        else
        {
            // Buffering keeps the body sendable; the transport then sends the buffered copy.
            await content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        }

        var bytes = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        _requestBody = bytes;
        return _requestBody;
    }

    /// <summary>Replaces the request body with <paramref name="body"/>, keeping the content headers (length updated).</summary>
    /// <param name="body">The new body.</param>
    public void ReplaceRequestBody(byte[] body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var old = Request.Content;
        var replacement = new ByteArrayContent(body);
        if (old is not null)
        {
            foreach (var header in old.Headers)
            {
                if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    _ = replacement.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }
            }
        }

        replacement.Headers.ContentLength = body.Length;
        Request.Content = replacement;
        _requestBody = body;
        _requestBodyRead = true;
    }

    /// <summary>Returns whether the response's media type is <paramref name="mediaType"/> (case-insensitive).</summary>
    /// <param name="headers">The response content headers.</param>
    /// <param name="mediaType">The media type, for example <c>text/event-stream</c>.</param>
    /// <returns><see langword="true"/> when it matches.</returns>
    public static bool IsMediaType(HttpContentHeaders? headers, string mediaType) =>
        string.Equals(headers?.ContentType?.MediaType, mediaType, StringComparison.OrdinalIgnoreCase);
}
