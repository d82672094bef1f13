// Shared by the test projects (linked, not copied): see their .csproj files.
using System.Net;
using System.Text;

namespace TokenMetrics.Tests.Shared;

/// <summary>A primary handler that answers from a delegate; no network.</summary>
public sealed class StubHttpHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> respond) : HttpMessageHandler
{
    public List<HttpRequestMessage> Requests { get; } = [];

    public List<byte[]?> RequestBodies { get; } = [];

    public static StubHttpHandler Returning(Func<HttpRequestMessage, byte[]?, HttpResponseMessage> respond) =>
        new(async (request, ct) => respond(request, request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(ct)));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        RequestBodies.Add(request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken));
        return await respond(request, cancellationToken);
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Sse(byte[] body, int[]? chunkSizes = null, Exception? failAtEnd = null, bool endless = false)
    {
        var content = new StreamContent(new ChunkedStream(body, chunkSizes, failAtEnd, endless));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/event-stream");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }
}

/// <summary>Serves bytes in fixed-size reads (cycling through <c>chunkSizes</c>), like a network stream.</summary>
public sealed class ChunkedStream(byte[] data, int[]? chunkSizes = null, Exception? failAtEnd = null, bool endless = false) : Stream
{
    private long _position;
    private int _chunk;

    public bool Disposed { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var index = endless ? (int)(_position % data.Length) : (int)_position;
        if (!endless && index >= data.Length)
        {
            if (failAtEnd is not null)
            {
                throw failAtEnd;
            }

            return 0;
        }

        var size = chunkSizes is { Length: > 0 } ? chunkSizes[_chunk++ % chunkSizes.Length] : 4096;
        var n = Math.Min(Math.Min(size, buffer.Length), data.Length - index);
        data.AsSpan(index, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }
}
