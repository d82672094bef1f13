using System.Buffers;
using System.Text;

namespace TokenMetrics.Internal;

/// <summary>Text assembled from pieces (stream deltas) that never holds more than a head and a tail window: enough for the
/// middle truncation, whatever the length of the answer.</summary>
/// <remarks>Each window is as long as the limit (not half of it) so that the redactor sees some text beyond each cut point.</remarks>
internal sealed class ContentText(int window)
{
    private char[]? _head;
    private int _headLength;
    private char[]? _tail;
    private int _tailPosition;
    private int _tailLength;

    /// <summary>Gets the number of characters seen, kept or not.</summary>
    public long Length { get; private set; }

    public void Append(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        Length += text.Length;
        if (_headLength < window)
        {
            var take = Math.Min(window - _headLength, text.Length);
            if (_head is null || _head.Length < _headLength + take)
            {
                Array.Resize(ref _head, Math.Min(window, Math.Max(_headLength + take, Math.Max(64, (_head?.Length ?? 0) * 2))));
            }

            text[..take].CopyTo(_head.AsSpan(_headLength));
            _headLength += take;
            text = text[take..];
            if (text.IsEmpty)
            {
                return;
            }
        }

        // Past the head: a ring of the last `window` characters.
        _tail ??= new char[window];
        if (text.Length >= window)
        {
            text[^window..].CopyTo(_tail);
            _tailPosition = 0;
            _tailLength = window;
            return;
        }

        var first = Math.Min(text.Length, window - _tailPosition);
        text[..first].CopyTo(_tail.AsSpan(_tailPosition));
        text[first..].CopyTo(_tail);
        _tailPosition = (_tailPosition + text.Length) % window;
        _tailLength = Math.Min(window, _tailLength + text.Length);
    }

    public void Append(string? text) => Append(text.AsSpan());

    /// <summary>Appends UTF-8 text.</summary>
    public void AppendUtf8(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return;
        }

        var max = Encoding.UTF8.GetMaxCharCount(utf8.Length);
        var rented = max > 512 ? ArrayPool<char>.Shared.Rent(max) : null;
        try
        {
            Span<char> chars = rented ?? stackalloc char[max];
            var n = Encoding.UTF8.GetChars(utf8, chars);
            Append(chars[..n]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Appends the raw content of one JSON string value (between its quotes, escapes not decoded).</summary>
    public void AppendJsonEscaped(ReadOnlySpan<byte> escaped)
    {
        if (escaped.IndexOf((byte)'\\') < 0)
        {
            AppendUtf8(escaped);
        }
        else
        {
            Append(JsonText.UnescapeFragments(escaped));
        }
    }

    /// <summary>Appends the string value the reader is on (nothing for any other token).</summary>
    public void AppendString(ref System.Text.Json.Utf8JsonReader reader)
    {
        if (reader.TokenType != System.Text.Json.JsonTokenType.String)
        {
            return;
        }

        if (reader.ValueIsEscaped)
        {
            AppendJsonEscaped(reader.ValueSpan);
        }
        else
        {
            AppendUtf8(reader.ValueSpan);
        }
    }

    /// <summary>Redacts and cuts the text; <see langword="null"/> when nothing was seen or the redactor dropped it.</summary>
    public string? Build(ContentPolicy policy, TokenUsageContentPart part)
    {
        if (Length == 0)
        {
            return null;
        }

        var head = new string(_head.AsSpan(0, _headLength));
        if (_tailLength == 0)
        {
            return policy.Finish(part, head);
        }

        var tail = _tailLength < window
            ? new string(_tail.AsSpan(0, _tailLength))
            : string.Concat(_tail.AsSpan(_tailPosition), _tail.AsSpan(0, _tailPosition));
        if (Length == _headLength + _tailLength)
        {
            // Nothing was dropped: the whole text is here.
            return policy.Finish(part, head + tail);
        }

        return policy.FinishCut(part, head, tail);
    }
}
