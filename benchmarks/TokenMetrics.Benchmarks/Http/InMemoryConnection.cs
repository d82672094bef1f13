using System.Globalization;
using System.Text;
using System.Threading.Tasks.Sources;

namespace TokenMetrics.Benchmarks.Http;

/// <summary>The in-memory transport of the peer benchmarks and the load test: a real <see cref="SocketsHttpHandler"/> whose
/// <see cref="SocketsHttpHandler.ConnectCallback"/> returns an <see cref="InMemoryConnection"/> instead of a socket.</summary>
/// <remarks>A mock primary handler (<see cref="NoRemoteCallHandler"/>) cannot carry the OpenTelemetry peer: .NET's HttpClient
/// instrumentation lives in <see cref="SocketsHttpHandler"/>'s own chain (its DiagnosticsHandler starts the
/// <c>System.Net.Http.HttpRequestOut</c> activity, its MetricsHandler records <c>http.client.request.duration</c>), so over a
/// mock handler OpenTelemetry would record nothing. Here the whole client stack runs — connection pool, HTTP/1.1 framing,
/// diagnostics — over a stream that answers every request with the same canned response; no socket, no TLS, no other thread.</remarks>
internal static class InMemoryTransport
{
    /// <summary>Creates a handler whose every connection answers with <paramref name="body"/> (status 200, <paramref name="mediaType"/>).</summary>
    public static SocketsHttpHandler CreateHandler(byte[] body, string mediaType)
    {
        var response = BuildResponse(body, mediaType);
        return new SocketsHttpHandler
        {
            ConnectCallback = (_, _) => ValueTask.FromResult<Stream>(new InMemoryConnection(response)),
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseProxy = false,
        };
    }

    private static byte[] BuildResponse(byte[] body, string mediaType)
    {
        var head = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 200 OK\r\nContent-Type: {mediaType}\r\nContent-Length: {body.Length}\r\nx-request-id: req_0123456789abcdef\r\n\r\n"));
        return [.. head, .. body];
    }
}

/// <summary>One client connection served from memory: it reads each HTTP/1.1 request the client writes (headers up to the blank
/// line, then <c>Content-Length</c> bytes of body) and then lets the client read the canned response. A read issued before the
/// request is complete (SocketsHttpHandler's read-ahead on a pooled connection) waits, without allocating, until it is.</summary>
internal sealed class InMemoryConnection(byte[] response) : Stream, IValueTaskSource<int>
{
    private static ReadOnlySpan<byte> ContentLength => "content-length:"u8;

    private readonly Lock _lock = new();
    private readonly byte[] _header = new byte[16 * 1024];
    private ManualResetValueTaskSourceCore<int> _pending; // RunContinuationsAsynchronously = false: the reader resumes inline
    private Memory<byte> _pendingBuffer;
    private bool _hasPending;
    private int _headerLength;
    private int _headerMatch; // bytes of "\r\n\r\n" matched
    private long _bodyRemaining = -1; // -1: reading the header
    private int _responsePos = -1; // -1: no response to read
    private bool _disposed;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        lock (_lock)
        {
            return _responsePos >= 0 || _disposed ? Take(buffer) : throw new InvalidOperationException("A synchronous read before the request was complete.");
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_responsePos >= 0 || _disposed)
            {
                return new ValueTask<int>(Take(buffer.Span));
            }

            if (_hasPending)
            {
                throw new InvalidOperationException("Two concurrent reads on one connection.");
            }

            _pending.Reset();
            _pendingBuffer = buffer;
            _hasPending = true;
            return new ValueTask<int>(this, _pending.Version);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        int completed;
        lock (_lock)
        {
            completed = OnRequestBytes(buffer);
        }

        if (completed >= 0)
        {
            _pending.SetResult(completed);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    int IValueTaskSource<int>.GetResult(short token) => _pending.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _pending.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _pending.OnCompleted(continuation, state, token, flags);

    protected override void Dispose(bool disposing)
    {
        var wake = false;
        lock (_lock)
        {
            _disposed = true;
            _responsePos = -1;
            if (_hasPending)
            {
                _hasPending = false;
                wake = true;
            }
        }

        if (wake)
        {
            _pending.SetResult(0);
        }

        base.Dispose(disposing);
    }

    // Called under the lock. Returns the byte count for a waiting read when this write completed the request, else -1.
    private int OnRequestBytes(ReadOnlySpan<byte> data)
    {
        var result = -1;
        while (!data.IsEmpty)
        {
            if (_bodyRemaining < 0)
            {
                var i = 0;
                for (; i < data.Length && _headerMatch < 4; i++)
                {
                    var b = data[i];
                    if (_headerLength < _header.Length)
                    {
                        _header[_headerLength++] = b;
                    }

                    _headerMatch = b == (_headerMatch % 2 == 0 ? (byte)'\r' : (byte)'\n') ? _headerMatch + 1 : b == '\r' ? 1 : 0;
                }

                data = data[i..];
                if (_headerMatch == 4)
                {
                    _bodyRemaining = ParseContentLength(_header.AsSpan(0, _headerLength));
                    _headerMatch = 0;
                    _headerLength = 0;
                    if (_bodyRemaining == 0)
                    {
                        result = RequestComplete();
                    }
                }
            }
            else
            {
                var n = (int)Math.Min(data.Length, _bodyRemaining);
                _bodyRemaining -= n;
                data = data[n..];
                if (_bodyRemaining == 0)
                {
                    result = RequestComplete();
                }
            }
        }

        return result;
    }

    private int RequestComplete()
    {
        if (_responsePos >= 0)
        {
            throw new InvalidOperationException("A request arrived before the previous response was read.");
        }

        _bodyRemaining = -1;
        _responsePos = 0;
        if (!_hasPending)
        {
            return -1;
        }

        _hasPending = false;
        var n = Take(_pendingBuffer.Span);
        _pendingBuffer = default;
        return n;
    }

    private int Take(Span<byte> buffer)
    {
        if (_responsePos < 0)
        {
            return 0;
        }

        var n = Math.Min(buffer.Length, response.Length - _responsePos);
        response.AsSpan(_responsePos, n).CopyTo(buffer);
        _responsePos += n;
        if (_responsePos == response.Length)
        {
            _responsePos = -1; // keep-alive: the next request gets the next response
        }

        return n;
    }

    private static long ParseContentLength(ReadOnlySpan<byte> header)
    {
        // Lines are "Name: value\r\n"; header names are case-insensitive.
        while (!header.IsEmpty)
        {
            var end = header.IndexOf("\r\n"u8);
            var line = end < 0 ? header : header[..end];
            if (line.Length > ContentLength.Length && Ascii.EqualsIgnoreCase(line[..ContentLength.Length], ContentLength))
            {
                // Utf8Parser, not long.Parse(string): the transport must not allocate, it is in every column.
                return System.Buffers.Text.Utf8Parser.TryParse(line[ContentLength.Length..].Trim((byte)' '), out long length, out _)
                    ? length
                    : throw new InvalidOperationException("Bad Content-Length.");
            }

            if (line.StartsWith("transfer-encoding:"u8) || line.StartsWith("Transfer-Encoding:"u8))
            {
                throw new NotSupportedException("The in-memory connection reads Content-Length request bodies only.");
            }

            header = end < 0 ? default : header[(end + 2)..];
        }

        return 0;
    }
}
