using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Internal;

/// <summary>A write-only stream into a pooled, growing buffer with a hard limit.</summary>
internal sealed class PooledWriteStream : Stream
{
    // One idle instance per thread: the request-body copy of every metered call needs one for the length of a CopyToAsync.
    [ThreadStatic]
    private static PooledWriteStream? t_idle;

    private byte[] _buffer;
    private int _length;
    private int _limit;

    public PooledWriteStream(int initialCapacity, int limit)
    {
        _limit = limit;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Clamp(initialCapacity, 16, Math.Max(16, limit)));
    }

    /// <summary>Takes this thread's idle instance (or a new one), empty, with a fresh pooled buffer; give it back with
    /// <see cref="Return"/> once its buffer is detached or released.</summary>
    public static PooledWriteStream Rent(int initialCapacity, int limit)
    {
        var idle = t_idle;
        if (idle is null)
        {
            return new PooledWriteStream(initialCapacity, limit);
        }

        t_idle = null;
        idle._limit = limit;
        idle._length = 0;
        idle._buffer = ArrayPool<byte>.Shared.Rent(Math.Clamp(initialCapacity, 16, Math.Max(16, limit)));
        return idle;
    }

    /// <summary>Releases the buffer still held (if any) and keeps the instance for the next <see cref="Rent"/> on this thread.</summary>
    public void Return()
    {
        Release();
        t_idle = this;
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    /// <summary>Hands the buffer over to the caller, who returns it to the pool.</summary>
    public byte[] Detach(out int length)
    {
        var buffer = _buffer;
        length = _length;
        _buffer = [];
        _length = 0;
        return buffer;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var needed = _length + buffer.Length;
        if (needed > _limit)
        {
            throw new LimitExceededException();
        }

        if (needed > _buffer.Length)
        {
            var next = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Max(needed, _buffer.Length * 2), Math.Max(needed, _limit)));
            _buffer.AsSpan(0, _length).CopyTo(next);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = next;
        }

        buffer.CopyTo(_buffer.AsSpan(_length));
        _length = needed;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        Release();
        base.Dispose(disposing);
    }

    private void Release()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        _length = 0;
    }

    /// <summary>Thrown when the content is larger than the limit.</summary>
    internal sealed class LimitExceededException : IOException
    {
        public LimitExceededException()
            : base("The content is larger than the inspection limit.")
        {
        }
    }
}
