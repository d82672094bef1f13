using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Internal;

/// <summary>Stands in for the response content: the same headers and bytes, observed as the app reads them.</summary>
internal sealed class MeteringHttpContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly HttpCallMeter _meter;
    private readonly bool _transform;

    public MeteringHttpContent(HttpContent inner, HttpCallMeter meter)
    {
        _inner = inner;
        _meter = meter;
        _transform = meter.TransformsContent;
        if (!_transform && TryShareHeaders(inner, this))
        {
            return;
        }

        // NonValidated: copy the raw values without parsing them (cheaper, and byte-for-byte what the server sent).
        foreach (var header in inner.Headers.NonValidated)
        {
            // A transformed body has another length; SSE bodies normally have none anyway.
            if (_transform && string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var values = header.Value;
            _ = values.Count == 1 ? Headers.TryAddWithoutValidation(header.Key, values.ToString()) : Headers.TryAddWithoutValidation(header.Key, values);
        }

        if (_transform && meter.TransformedMediaType is { } mediaType)
        {
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(mediaType) { CharSet = "utf-8" };
        }
    }

    /// <summary>A body passed through unchanged keeps the very header collection of the content it stands in for (whose parent
    /// computes the same length from the same bytes): no copy per call, and the app sees exactly the server's headers.</summary>
    /// <returns><see langword="false"/> when this runtime's <see cref="HttpContent"/> has no such field: the caller copies.</returns>
    private static bool TryShareHeaders(HttpContent inner, HttpContent wrapper)
    {
        if (!s_canShareHeaders)
        {
            return false;
        }

        try
        {
            HeadersField(wrapper) = inner.Headers;
            return true;
        }
        catch (MissingFieldException)
        {
            s_canShareHeaders = false;
            return false;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_headers")]
    private static extern ref HttpContentHeaders? HeadersField(HttpContent content);

    private static bool s_canShareHeaders = true;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var source = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            await source.CopyToAsync(stream, 81920, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        using var source = CreateContentReadStream(cancellationToken);
        source.CopyTo(stream);
    }

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken)
    {
        // The inner stream is usually there at once (a response's content stream is): no state machine for it.
        Task<Stream> pending;
        try
        {
            pending = _inner.ReadAsStreamAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            pending = Task.FromException<Stream>(ex); // through the async path, as an async method would have it
        }

        return pending.IsCompletedSuccessfully ? Task.FromResult(Wrap(pending.Result)) : WrapAsync(pending);
    }

    private async Task<Stream> WrapAsync(Task<Stream> pending)
    {
        Stream inner;
        try
        {
            inner = await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _meter.OnReadFailed(ex);
            throw;
        }

        return Wrap(inner);
    }

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken)
    {
        Stream inner;
        try
        {
            inner = _inner.ReadAsStream(cancellationToken);
        }
        catch (Exception ex)
        {
            _meter.OnReadFailed(ex);
            throw;
        }

        return Wrap(inner);
    }

    protected override bool TryComputeLength(out long length)
    {
        // The copied Content-Length header (when present) answers first; otherwise the length is unknown.
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _meter.OnDisposed();
        }

        base.Dispose(disposing);
    }

    private Stream Wrap(Stream inner) => _transform ? new TransformingReadStream(inner, _meter) : new MeteringReadStream(inner, _meter);
}
