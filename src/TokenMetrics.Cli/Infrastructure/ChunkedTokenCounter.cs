using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Cli;

/// <summary>Counts the tokens of a UTF-8 stream in bounded memory: the text is cut only where no pre-token can span the cut, so
/// the total equals counting the whole text at once; a stretch longer than <c>maxPiece</c> bytes without such a place (one
/// huge "word") is cut anyway, and then the count is no longer exact (see <see cref="ForcedCuts"/>).</summary>
/// <remarks>
/// <para>Safe places, valid for every tiktoken pattern (cl100k, o200k, p50k, r50k): after a single <c>\n</c> between two
/// printable ASCII chars (the next not <c>/</c>, which o200k's punctuation pre-token may take), and before a space that
/// follows a printable ASCII char and precedes an ASCII letter (that space always opens the next word's pre-token).</para>
/// <para>A forced cut splits one pre-token in two: the byte-pair merges across the cut are lost, so the count can be off by
/// about one token per cut (a few tokens per <c>maxPiece</c> bytes of unbroken text, under 0.001 % at the default 1 MiB).
/// Memory stays at <c>maxPiece + readSize</c> bytes whatever the input; exactness for such input would need memory
/// proportional to the longest word.</para>
/// </remarks>
internal sealed class ChunkedTokenCounter(TiktokenEncoding encoding, int readSize = ChunkedTokenCounter.DefaultReadSize, int maxPiece = ChunkedTokenCounter.DefaultMaxPiece)
{
    public const int DefaultReadSize = 1 << 20;
    public const int DefaultMaxPiece = 1 << 20;

    /// <summary>Gets the tokens counted.</summary>
    public long Tokens { get; private set; }

    /// <summary>Gets the bytes read.</summary>
    public long Bytes { get; private set; }

    /// <summary>Gets how many times a stretch without a safe place had to be cut (0 = the count is exact).</summary>
    public int ForcedCuts { get; private set; }

    /// <summary>Gets the largest buffer held, in bytes: the memory bound, whatever the input's size.</summary>
    public int BufferBytes => maxPiece + readSize;

    public async Task CountAsync(Stream utf8, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(utf8);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            var filled = 0;
            var scanned = 0;
            while (true)
            {
                var read = await utf8.ReadAsync(buffer.AsMemory(filled, Math.Min(readSize, buffer.Length - filled)), cancellationToken).ConfigureAwait(false);
                filled += read;
                Bytes += read;
                int cut;
                if (read == 0)
                {
                    cut = filled;
                }
                else
                {
                    cut = LastSafeCut(buffer.AsSpan(0, filled), Math.Max(0, scanned - 2));
                    scanned = filled;
                    if (cut == 0 && filled >= maxPiece)
                    {
                        cut = CharStart(buffer.AsSpan(0, filled), maxPiece - 1);
                        ForcedCuts++;
                    }
                }

                if (cut > 0)
                {
                    Tokens += encoding.CountTokens(buffer.AsSpan(0, cut));
                    buffer.AsSpan(cut, filled - cut).CopyTo(buffer);
                    filled -= cut;
                    scanned = filled;
                }

                progress?.Report(Bytes);
                if (read == 0)
                {
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The last safe place at or after <paramref name="from"/> (where the next chunk starts), or 0.</summary>
    internal static int LastSafeCut(ReadOnlySpan<byte> s, int from)
    {
        for (var n = s.Length - 2; n >= Math.Max(1, from); n--)
        {
            var b = s[n];
            if (b == (byte)'\n' && IsNonSpaceAscii(s[n - 1]) && IsNonSpaceAscii(s[n + 1]) && s[n + 1] != (byte)'/')
            {
                return n + 1;
            }

            if (b == (byte)' ' && IsNonSpaceAscii(s[n - 1]) && char.IsAsciiLetter((char)s[n + 1]))
            {
                return n;
            }
        }

        return 0;
    }

    private static bool IsNonSpaceAscii(byte b) => b is > 0x20 and < 0x7F;

    // Never split a UTF-8 sequence: back up to the first byte of the char at the cut.
    private static int CharStart(ReadOnlySpan<byte> s, int at)
    {
        var cut = at;
        while (cut > at - 4 && cut > 0 && (s[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        return cut > 0 ? cut : at;
    }
}
