namespace TokenMetrics.Providers.Json;

/// <summary>For readers that frame a body into JSON documents of at most <c>limit</c> bytes: once the body grows past the
/// limit, its last <see cref="BoundedBody.TailBytes"/> are kept, so usage written at the end of an oversized document (which
/// the framer drops) can still be found. Below the limit it keeps nothing and costs a counter.</summary>
internal sealed class BodyTail(int limit) : IDisposable
{
    private BoundedBody _tail = new(0);

    /// <summary>Gets the number of bytes seen.</summary>
    public long Bytes { get; private set; }

    /// <summary>Gets a value indicating whether the body was larger than the limit.</summary>
    public bool Exceeded => Bytes > limit;

    /// <summary>Gets the last bytes seen (empty unless the body came near the limit).</summary>
    public ReadOnlySpan<byte> Tail => _tail.Tail;

    public void Write(ReadOnlySpan<byte> data)
    {
        Bytes += data.Length;
        if (Bytes > (long)limit - BoundedBody.TailBytes)
        {
            _tail.Write(data);
        }
    }

    /// <summary>The text after the last <c>"name":</c> in <paramref name="tail"/> (whitespace around the colon allowed), or empty.</summary>
    /// <param name="tail">The kept tail.</param>
    /// <param name="quotedName">The member name with its quotes, for example <c>"usage"</c>.</param>
    public static ReadOnlySpan<byte> ValueAfter(ReadOnlySpan<byte> tail, ReadOnlySpan<byte> quotedName)
    {
        var at = tail.LastIndexOf(quotedName);
        if (at < 0)
        {
            return default;
        }

        var rest = tail[(at + quotedName.Length)..].TrimStart(" \t\r\n"u8);
        return rest.IsEmpty || rest[0] != (byte)':' ? default : rest[1..].TrimStart(" \t\r\n"u8);
    }

    public void Dispose() => _tail.Dispose();
}
