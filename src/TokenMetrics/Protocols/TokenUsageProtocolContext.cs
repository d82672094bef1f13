using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>The state of one metered HTTP call, shared by the handler and the protocol that meters it.</summary>
/// <remarks>Created by <see cref="TokenMetricsHandler"/>; protocols read the request through it and set what they learn.</remarks>
public sealed class TokenUsageProtocolContext
{
    private ReadOnlyMemory<byte>? _requestBody;
    private bool _requestBodyRead;
    private byte[]? _pooledBody;

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
    /// <returns>The body, or <see langword="null"/> when there is none, it is over the limit, or it cannot be read without consuming it.</returns>
    /// <remarks>In-memory content (byte arrays, strings, JSON content) is copied into a pooled buffer and left untouched;
    /// other content of known length is buffered so that it can still be sent; a streamed upload is never touched.</remarks>
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

        if (content is ByteArrayContent or ReadOnlyMemoryContent or System.Net.Http.Json.JsonContent)
        {
            // These serialize the same bytes every time: copy them out without changing the content's state.
            var copy = PooledWriteStream.Rent((int)(length ?? 1024), Options.MaxInspectedRequestBytes);
            try
            {
                await content.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
                _pooledBody = copy.Detach(out var written);
                _requestBody = _pooledBody.AsMemory(0, written);
                return _requestBody;
            }
            catch (Exception ex) when (ex is PooledWriteStream.LimitExceededException || ex.InnerException is PooledWriteStream.LimitExceededException)
            {
                // HttpContent wraps stream exceptions in HttpRequestException.
                return null;
            }
            finally
            {
                copy.Return();
            }
        }

        if (length is null || content is StreamContent)
        {
            // Unknown length or a one-shot stream: reading it could consume the upload.
            return null;
        }

        // Buffering keeps the body sendable; the transport then sends the buffered copy.
        await content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        var bytes = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        _requestBody = bytes;
        return _requestBody;
    }

    /// <summary>Returns the pooled request-body copy; called once the call is recorded.</summary>
    internal void ReleaseRequestBody()
    {
        _requestBody = null;
        if (_pooledBody is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(_pooledBody);
            _pooledBody = null;
        }
    }

    /// <summary>Hands the request-body copy over (to an estimate that outlives the call); the context forgets it.</summary>
    /// <param name="pooled">The pooled array behind it, for the new owner to return; <see langword="null"/> when not pooled.</param>
    /// <returns>The body, empty when none was read.</returns>
    internal ReadOnlyMemory<byte> DetachRequestBody(out byte[]? pooled)
    {
        var body = _requestBody ?? default;
        pooled = _pooledBody;
        _requestBody = null;
        _pooledBody = null;
        return body;
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
        ReleaseRequestBody();
        _requestBody = body;
        _requestBodyRead = true;
    }

    /// <summary>Returns whether the response's media type is <paramref name="mediaType"/> (case-insensitive, parameters ignored).</summary>
    /// <param name="headers">The response content headers.</param>
    /// <param name="mediaType">The media type, for example <c>text/event-stream</c>.</param>
    /// <returns><see langword="true"/> when it matches.</returns>
    /// <remarks>Reads the raw header without parsing it, so metering allocates nothing for it.</remarks>
    internal static bool IsMediaType(HttpContentHeaders? headers, string mediaType) =>
        RawMediaType(headers).Equals(mediaType, StringComparison.OrdinalIgnoreCase);

    /// <summary>Returns whether the response's media type contains <paramref name="fragment"/> (for example <c>json</c>), or
    /// <paramref name="whenAbsent"/> when the response has no content type.</summary>
    /// <param name="headers">The response content headers.</param>
    /// <param name="fragment">The text to look for, case-insensitive.</param>
    /// <param name="whenAbsent">The answer when there is no <c>Content-Type</c>.</param>
    /// <returns>Whether it matches.</returns>
    internal static bool MediaTypeContains(HttpContentHeaders? headers, string fragment, bool whenAbsent)
    {
        var raw = RawMediaType(headers);
        return raw.IsEmpty ? whenAbsent : raw.Contains(fragment, StringComparison.OrdinalIgnoreCase);
    }

    private static ReadOnlySpan<char> RawMediaType(HttpContentHeaders? headers)
    {
        if (headers is null || !headers.NonValidated.TryGetValues("Content-Type", out var values) || values.Count == 0)
        {
            return default;
        }

        var raw = values.ToString().AsSpan();
        var semicolon = raw.IndexOf(';');
        return (semicolon < 0 ? raw : raw[..semicolon]).Trim();
    }
}
