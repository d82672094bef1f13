using System.Buffers;
using System.Text;

namespace TokenMetrics;

/// <summary>A bounded buffer of answer text, kept only to estimate usage when the vendor reports none.</summary>
/// <remarks>
/// Stores text as UTF-8 up to <see cref="Capacity"/> bytes; past it only the byte count grows, and estimates scale
/// the counted part to the whole. Appending JSON-escaped string content defers unescaping to the rare estimate.
/// </remarks>
public sealed class TokenUsageTextAccumulator
{
    /// <summary>The default number of bytes kept: 1 MiB.</summary>
    public const int DefaultCapacity = 1 << 20;

    private byte[]? _buffer;
    private int _length;
    private bool _escaped;

    /// <summary>Gets or sets the maximum number of bytes kept.</summary>
    public int Capacity { get; set; } = DefaultCapacity;

    /// <summary>Gets the number of text bytes seen, kept or not.</summary>
    public long TotalBytes { get; private set; }

    /// <summary>Gets a value indicating whether nothing was seen.</summary>
    public bool IsEmpty => TotalBytes == 0;

    /// <summary>Gets or sets the stream output cap that counts the text as it arrives; <see langword="null"/> (no work) without a cap.</summary>
    internal TokenMetrics.Internal.StreamOutputCap? Cap { get; set; }

    /// <summary>Gets the number of text bytes kept.</summary>
    internal int KeptBytes => _length;

    /// <summary>Moves the kept text into a new accumulator (which then owns the pooled buffer); this one is empty afterwards.</summary>
    /// <returns>The text, or <see langword="null"/> when nothing was seen.</returns>
    internal TokenUsageTextAccumulator? Detach()
    {
        if (IsEmpty)
        {
            return null;
        }

        var moved = new TokenUsageTextAccumulator { Capacity = Capacity, _buffer = _buffer, _length = _length, _escaped = _escaped, TotalBytes = TotalBytes };
        _buffer = null;
        _length = 0;
        _escaped = false;
        TotalBytes = 0;
        return moved;
    }

    /// <summary>Appends UTF-8 text.</summary>
    /// <param name="utf8">The text.</param>
    public void Append(ReadOnlySpan<byte> utf8) => AppendCore(utf8, escaped: false);

    /// <summary>Appends the raw bytes of a JSON string value (between the quotes, escapes not yet decoded).</summary>
    /// <param name="jsonStringContent">The escaped string content.</param>
    public void AppendJsonEscaped(ReadOnlySpan<byte> jsonStringContent) => AppendCore(jsonStringContent, escaped: true);

    /// <summary>Appends text.</summary>
    /// <param name="text">The text.</param>
    public void Append(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (max <= 1024)
        {
            Span<byte> stack = stackalloc byte[max];
            var n = Encoding.UTF8.GetBytes(text, stack);
            Append(stack[..n]);
        }
        else
        {
            Append(Encoding.UTF8.GetBytes(text));
        }
    }

    /// <summary>Returns the kept text, unescaped, and the fraction of all seen bytes it covers (1 when nothing was cut).</summary>
    /// <param name="coverage">Kept bytes divided by seen bytes.</param>
    /// <returns>The text.</returns>
    public string GetText(out double coverage)
    {
        coverage = TotalBytes == 0 ? 1 : (double)_length / TotalBytes;
        if (_buffer is null || _length == 0)
        {
            return string.Empty;
        }

        var span = _buffer.AsSpan(0, _length);
        return _escaped ? JsonText.UnescapeFragments(span) : Encoding.UTF8.GetString(span);
    }

    /// <summary>Returns the pooled buffer; the accumulator is empty afterwards.</summary>
    public void Reset()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        _length = 0;
        TotalBytes = 0;
        _escaped = false;
    }

    private void AppendCore(ReadOnlySpan<byte> data, bool escaped)
    {
        if (data.IsEmpty)
        {
            return;
        }

        Cap?.Count(data, escaped);
        TotalBytes += data.Length;
        _escaped |= escaped;
        var room = Capacity - _length;
        if (room <= 0)
        {
            return;
        }

        var take = Math.Min(room, data.Length);
        if (_buffer is null || _buffer.Length - _length < take)
        {
            var size = Math.Max(Math.Min(Capacity, Math.Max(256, (_length + take) * 2)), _length + take);
            var next = ArrayPool<byte>.Shared.Rent(size);
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, _length).CopyTo(next);
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = next;
        }

        data[..take].CopyTo(_buffer.AsSpan(_length));
        _length += take;
    }
}
