using System.Buffers;

namespace TokenMetrics.Providers.Json;

/// <summary>Keeps a non-streamed body for a scan at its end, bounded: up to <c>maxBytes</c> whole; past that only the head
/// (ids and model come first) and a tail window (usage comes last) are kept, so nothing is ever buffered without bound.</summary>
/// <remarks>A mutable struct held in a (non-readonly) field of its reader: one object fewer per call. Never copy it while in use.</remarks>
internal struct BoundedBody(int maxBytes) : IDisposable
{
    private readonly int _maxBytes = maxBytes;
    private const int HeadBytes = 64 * 1024;
    internal const int TailBytes = 256 * 1024;

    private byte[]? _buffer;
    private int _length;
    private byte[]? _tail;
    private int _tailLength;

    /// <summary>Gets a value indicating whether the body was larger than the limit.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>Gets the whole body (when not overflowed) or its head.</summary>
    public ReadOnlySpan<byte> Body => _buffer.AsSpan(0, _length);

    /// <summary>Gets the last bytes seen past the limit (empty unless overflowed).</summary>
    public ReadOnlySpan<byte> Tail => _tail.AsSpan(0, _tailLength);

    public void Write(ReadOnlySpan<byte> data)
    {
        if (Overflowed)
        {
            AppendTail(data);
            return;
        }

        var needed = _length + data.Length;
        if (needed > _maxBytes)
        {
            Overflowed = true;
            var head = Math.Min(HeadBytes, _length);
            AppendTail(_buffer.AsSpan(head, _length - head));
            _length = head;
            AppendTail(data);
            return;
        }

        if (_buffer is null || _buffer.Length < needed)
        {
            var next = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(4096, (_buffer?.Length ?? 0) * 2)));
            _buffer?.AsSpan(0, _length).CopyTo(next);
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = next;
        }

        data.CopyTo(_buffer.AsSpan(_length));
        _length = needed;
    }

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        if (_tail is not null)
        {
            ArrayPool<byte>.Shared.Return(_tail);
            _tail = null;
        }

        _length = _tailLength = 0;
    }

    private void AppendTail(ReadOnlySpan<byte> data)
    {
        _tail ??= ArrayPool<byte>.Shared.Rent(TailBytes * 2);
        if (data.Length >= TailBytes)
        {
            data[^TailBytes..].CopyTo(_tail);
            _tailLength = TailBytes;
            return;
        }

        if (_tailLength + data.Length > _tail.Length)
        {
            // Slide: keep the last TailBytes - data.Length bytes, then append.
            var keep = TailBytes - data.Length;
            _tail.AsSpan(_tailLength - keep, keep).CopyTo(_tail);
            _tailLength = keep;
        }

        data.CopyTo(_tail.AsSpan(_tailLength));
        _tailLength += data.Length;
    }
}
