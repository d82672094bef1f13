using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Internal;

/// <summary>A write-only stream into a pooled, growing buffer with a hard limit.</summary>
internal sealed class PooledWriteStream(int initialCapacity, int limit) : Stream
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(Math.Clamp(initialCapacity, 16, Math.Max(16, limit)));
    private int _length;

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
        if (needed > limit)
        {
            throw new LimitExceededException();
        }

        if (needed > _buffer.Length)
        {
            var next = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Max(needed, _buffer.Length * 2), Math.Max(needed, limit)));
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
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        base.Dispose(disposing);
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
