using System.IO;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace TokenMetrics.Internal;

/// <summary>The mergeable ranks of one vocabulary: token bytes in rank order plus an open-addressing table keyed by the bytes.</summary>
/// <remarks>Lookups hash a span of the caller's buffer directly, so finding a piece's rank never allocates.</remarks>
internal sealed class RankTable
{
    /// <summary>Returned by lookups that find nothing; larger than every rank, so merges never pick it.</summary>
    public const int NoRank = int.MaxValue;

    private const ulong Golden = 0x9E3779B97F4A7C15;

    private readonly byte[] _bytes;
    private readonly int[] _offsets;
    private readonly Entry[] _entries;
    private readonly int _shift;
    private readonly int _mask;

    // Ranks of every 2-byte token, so the first round of pair ranks in a merge is one array read each.
    private readonly int[] _pairRanks;
    private readonly int[] _byteRanks;

    private RankTable(byte[] payload)
    {
        var count = 0;
        var total = 0;
        for (var p = 0; p < payload.Length; p += payload[p] + 1)
        {
            count++;
            total += payload[p];
        }

        _bytes = new byte[total];
        _offsets = new int[count + 1];
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)(count + (count / 2)));
        _entries = new Entry[size];
        _mask = size - 1;
        _shift = 64 - BitOperations.Log2((uint)size);
        _pairRanks = new int[0x10000];
        _byteRanks = new int[256];
        _pairRanks.AsSpan().Fill(NoRank);
        _byteRanks.AsSpan().Fill(NoRank);

        var at = 0;
        var rank = 0;
        for (var p = 0; p < payload.Length; p += payload[p] + 1, rank++)
        {
            int length = payload[p];
            _offsets[rank] = at;
            payload.AsSpan(p + 1, length).CopyTo(_bytes.AsSpan(at));
            at += length;
            if (length == 0)
            {
                continue; // a reserved rank without mergeable bytes (p50k_base's 50256)
            }

            Insert(rank, at - length, length);
            if (length == 1)
            {
                _byteRanks[_bytes[at - 1]] = rank;
            }
            else if (length == 2)
            {
                _pairRanks[(_bytes[at - 2] << 8) | _bytes[at - 1]] = rank;
            }
        }

        _offsets[count] = at;
        Count = count;
    }

    private LinearBpe? _linear;

    /// <summary>Gets the number of ranks (the largest rank plus one).</summary>
    public int Count { get; }

    /// <summary>Gets the linear-time encoder for long pieces, built on first use.</summary>
    public LinearBpe Linear => _linear ?? InitLinear();

    /// <summary>Loads an embedded <c>*.ranks.deflate</c> resource (see tools/tiktoken-data).</summary>
    public static RankTable Load(string resourceName)
    {
        using var stream = typeof(RankTable).Assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"The embedded rank data '{resourceName}' is missing from the assembly.");
        using var inflater = new DeflateStream(stream, CompressionMode.Decompress);
        using var buffer = new MemoryStream(capacity: (int)Math.Min(stream.Length * 2, int.MaxValue));
        inflater.CopyTo(buffer);
        return new RankTable(buffer.GetBuffer().AsSpan(0, (int)buffer.Length).ToArray());
    }

    /// <summary>Gets the bytes of a rank; empty for a reserved rank or one out of range.</summary>
    public ReadOnlySpan<byte> GetBytes(int rank) =>
        (uint)rank < (uint)Count ? _bytes.AsSpan(_offsets[rank], _offsets[rank + 1] - _offsets[rank]) : default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ByteRank(byte b) => _byteRanks[b];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int PairRank(byte a, byte b) => _pairRanks[(a << 8) | b];

    /// <summary>Finds the rank of <c>buffer[start..start+length]</c>, or <see cref="NoRank"/>.</summary>
    /// <remarks>Reads 8 bytes at a time; short keys are read past their end when the buffer allows it and masked.</remarks>
    public int Lookup(ReadOnlySpan<byte> buffer, int start, int length)
    {
        ref var first = ref Unsafe.Add(ref MemoryMarshal.GetReference(buffer), start);
        ulong head;
        ulong hash;
        if (length >= 8)
        {
            head = Unsafe.ReadUnaligned<ulong>(ref first);
            var tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref first, length - 8));
            hash = Mix(head, length) ^ BitOperations.RotateLeft(tail * 0xC2B2AE3D27D4EB4F, 31);
        }
        else
        {
            if (buffer.Length - start >= 8)
            {
                head = Unsafe.ReadUnaligned<ulong>(ref first) & (ulong.MaxValue >> ((8 - length) * 8));
            }
            else
            {
                head = 0;
                for (var k = length - 1; k >= 0; k--)
                {
                    head = (head << 8) | Unsafe.Add(ref first, k);
                }
            }

            hash = Mix(head, length);
        }

        var entries = _entries;
        var index = (int)((hash * Golden) >> _shift);
        while (true)
        {
            ref var e = ref entries[index];
            if (e.Length == length && e.Head == head)
            {
                if (length <= 8 || _bytes.AsSpan(_offsets[e.Rank] + 8, length - 8).SequenceEqual(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref first, 8), length - 8)))
                {
                    return e.Rank;
                }
            }
            else if (e.Length == 0)
            {
                return NoRank;
            }

            index = (index + 1) & _mask;
        }
    }

    private LinearBpe InitLinear()
    {
        var linear = new LinearBpe(this);
        return Interlocked.CompareExchange(ref _linear, linear, null) ?? linear;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong head, int length) => (head ^ (head >> 29)) + ((ulong)length << 58);

    private void Insert(int rank, int start, int length)
    {
        var key = _bytes.AsSpan(start, length);
        if (Lookup(key, 0, length) != NoRank)
        {
            throw new InvalidOperationException("Duplicate token in rank data.");
        }

        ulong head = 0;
        for (var k = Math.Min(length, 8) - 1; k >= 0; k--)
        {
            head = (head << 8) | key[k];
        }

        var hash = length >= 8
            ? Mix(head, length) ^ BitOperations.RotateLeft(BitConverter.ToUInt64(key[(length - 8)..]) * 0xC2B2AE3D27D4EB4F, 31)
            : Mix(head, length);
        var index = (int)((hash * Golden) >> _shift);
        while (_entries[index].Length != 0)
        {
            index = (index + 1) & _mask;
        }

        _entries[index] = new Entry(head, rank, length);
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly struct Entry(ulong head, int rank, int length)
    {
        public readonly ulong Head = head;
        public readonly int Rank = rank;
        public readonly int Length = length;
    }
}
