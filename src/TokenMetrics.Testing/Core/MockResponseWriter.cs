using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace TokenMetrics.Testing.Internal;

/// <summary>Writes a response the way the scenario asks: gzip, split writes, per-chunk delays, clean ends and aborts.</summary>
internal sealed class MockResponseWriter : IAsyncDisposable
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] DoneEvent = "data: [DONE]\n\n"u8.ToArray();

    private static readonly TimeSpan AbortGracePeriod = TimeSpan.FromMilliseconds(50);

    private readonly MockRequestContext _context;
    private GZipStream? _gzip;
    private bool _finished;

    public MockResponseWriter(MockRequestContext context)
    {
        _context = context;
    }

    private HttpResponse Response => _context.Http.Response;

    private ResolvedScenario Scenario => _context.Scenario;

    private CancellationToken Token => _context.CancellationToken;

    /// <summary>Sends a complete body, or the first half of it when the scenario cuts the response.</summary>
    public async Task WriteBodyAsync(int statusCode, string contentType, byte[] body, bool honourCut)
    {
        Response.StatusCode = statusCode;
        Response.ContentType = contentType;
        if (Scenario.Gzip)
        {
            Response.Headers.ContentEncoding = "gzip";
            body = Compress(body);
        }

        var cut = honourCut && Scenario.CutAfterChunks is not null;
        if (!cut)
        {
            Response.ContentLength = body.Length;
            await Response.Body.WriteAsync(body, Token).ConfigureAwait(false);
            _finished = true;
            return;
        }

        await Response.Body.WriteAsync(body.AsMemory(0, body.Length / 2), Token).ConfigureAwait(false);
        await Response.Body.FlushAsync(Token).ConfigureAwait(false);
        await EndCutAsync().ConfigureAwait(false);
    }

    /// <summary>Sends the headers of an event stream.</summary>
    public async Task StartEventStreamAsync()
    {
        Response.StatusCode = StatusCodes.Status200OK;
        Response.ContentType = "text/event-stream; charset=utf-8";
        Response.Headers.CacheControl = "no-cache";
        if (Scenario.Gzip)
        {
            Response.Headers.ContentEncoding = "gzip";
            _gzip = new GZipStream(Response.Body, CompressionLevel.Fastest, leaveOpen: true);
        }

        await Response.StartAsync(Token).ConfigureAwait(false);
    }

    /// <summary>Waits the scenario's per-chunk delay.</summary>
    public Task DelayChunkAsync() =>
        Scenario.ChunkDelay > TimeSpan.Zero ? Task.Delay(Scenario.ChunkDelay, Token) : Task.CompletedTask;

    /// <summary>Writes <c>data: {json}\n\n</c>.</summary>
    public Task WriteDataAsync(byte[] json) => WriteAsync(Concat(DataPrefix, json, EventEnd));

    /// <summary>Writes <c>event: {name}\ndata: {json}\n\n</c>.</summary>
    public Task WriteEventAsync(string name, byte[] json) =>
        WriteAsync(Concat(EventPrefix, Encoding.UTF8.GetBytes(name + "\n"), DataPrefix, json, EventEnd));

    /// <summary>Writes <c>data: [DONE]\n\n</c>.</summary>
    public Task WriteDoneAsync() => WriteAsync(DoneEvent);

    /// <summary>Ends the body cleanly (the gzip trailer included).</summary>
    public async Task CompleteAsync()
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        if (_gzip is not null)
        {
            await _gzip.DisposeAsync().ConfigureAwait(false);
            _gzip = null;
        }

        await Response.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Ends a cut response: aborts the connection, or ends the body cleanly, as the scenario asks.</summary>
    public async Task EndCutAsync()
    {
        if (Scenario.CutAbortsConnection)
        {
            // No gzip trailer, no terminating chunk: the client sees a connection that died mid-body. Kestrel's Abort drops
            // output it has not yet handed to the socket, so give the flushed bytes a moment to leave first.
            _finished = true;
            await Task.Delay(AbortGracePeriod, CancellationToken.None).ConfigureAwait(false);
            _context.Http.Abort();
            return;
        }

        await CompleteAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_gzip is not null)
        {
            // Only reached when the response was aborted or failed: drop the compressor without writing a trailer.
            try
            {
                await _gzip.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
            }
            catch (OperationCanceledException)
            {
            }
            catch (ObjectDisposedException)
            {
            }

            _gzip = null;
        }
    }

    /// <summary>Sends a string header value (invariant formatting).</summary>
    public void SetHeader(string name, long value) => Response.Headers[name] = value.ToString(CultureInfo.InvariantCulture);

    private async Task WriteAsync(byte[] bytes)
    {
        var split = Scenario.SplitWritesBytes ?? bytes.Length;
        for (var offset = 0; offset < bytes.Length; offset += split)
        {
            var piece = bytes.AsMemory(offset, Math.Min(split, bytes.Length - offset));
            if (_gzip is not null)
            {
                await _gzip.WriteAsync(piece, Token).ConfigureAwait(false);
                await _gzip.FlushAsync(Token).ConfigureAwait(false);
            }
            else
            {
                await Response.Body.WriteAsync(piece, Token).ConfigureAwait(false);
            }

            await Response.Body.FlushAsync(Token).ConfigureAwait(false);
        }
    }

    private static byte[] Compress(byte[] body)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(body);
        }

        return output.ToArray();
    }

    private static byte[] Concat(params ReadOnlySpan<byte[]> parts)
    {
        var length = 0;
        foreach (var part in parts)
        {
            length += part.Length;
        }

        var result = new byte[length];
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }

        return result;
    }
}
