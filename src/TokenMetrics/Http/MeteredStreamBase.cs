using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Internal;

/// <summary>What the two response-body streams share: read-only, not seekable, and disposing the inner stream tells the
/// meter (once) that the app is done with the body.</summary>
internal abstract class MeteredStreamBase(Stream inner, HttpCallMeter meter) : Stream
{
    private int _disposed;

    protected Stream Inner => inner;

    protected HttpCallMeter Meter => meter;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public abstract override int Read(Span<byte> buffer);

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            meter.OnDisposed();
            OnDisposed();
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            inner.Dispose();
            meter.OnDisposed();
            OnDisposed();
        }

        base.Dispose(disposing);
    }

    /// <summary>Releases what the derived stream holds, after the inner stream is disposed.</summary>
    protected virtual void OnDisposed()
    {
    }
}
