using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace TokenMetrics.Internal;

/// <summary>A bounded, lock-free, direct-mapped cache of merged pieces (piece bytes -> ranks), for pieces that are not one
/// token and so would run the merge loop again each time they recur (emoji sequences, rare words of a chat).</summary>
/// <remarks>Entries are immutable and a slot is only ever filled once (compare-exchange from empty), so readers on any
/// thread see either nothing or a whole entry, and after warm-up counting allocates nothing: a piece whose slot is taken
/// by another piece simply misses and is merged as before.</remarks>
internal sealed class PieceCache
{
    /// <summary>Pieces from this many bytes are cached (shorter ones merge in a few steps anyway).</summary>
    public const int MinLength = 4;

    /// <summary>Pieces up to this many bytes are cached.</summary>
    public const int MaxLength = 64;

    private const int SlotBits = 13;

    private readonly Entry?[] _slots = new Entry?[1 << SlotBits];

    /// <summary>The cached ranks of <paramref name="piece"/>, or <see langword="null"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int[]? Get(ReadOnlySpan<byte> piece, out int slot)
    {
        slot = Slot(piece);
        var entry = Volatile.Read(ref _slots[slot]);
        return entry is not null && piece.SequenceEqual(entry.Key) ? entry.Ranks : null;
    }

    /// <summary>Stores the ranks of a piece in its slot if the slot is still empty.</summary>
    public void TryAdd(int slot, ReadOnlySpan<byte> piece, ReadOnlySpan<int> ranks)
    {
        if (Volatile.Read(ref _slots[slot]) is null)
        {
            Interlocked.CompareExchange(ref _slots[slot], new Entry(piece.ToArray(), ranks.ToArray()), null);
        }
    }

    /// <summary>Whether the slot is taken (so a miss need not build an entry).</summary>
    public bool IsTaken(int slot) => Volatile.Read(ref _slots[slot]) is not null;

    private static int Slot(ReadOnlySpan<byte> piece)
    {
        ref var first = ref MemoryMarshal.GetReference(piece);
        var length = piece.Length;
        var hash = (ulong)length * 0x9E3779B97F4A7C15;
        var k = 0;
        for (; k + 8 <= length; k += 8)
        {
            hash = (hash ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref first, k))) * 0xC2B2AE3D27D4EB4F;
            hash = BitOperations.RotateLeft(hash, 29);
        }

        if (k < length)
        {
            // The last 8 bytes of the piece (pieces here are at least MinLength = 4 bytes long;
            // a piece under 8 bytes is read as two overlapping 4-byte words).
            ulong tail = length >= 8
                ? Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref first, length - 8))
                : Unsafe.ReadUnaligned<uint>(ref first) | ((ulong)Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref first, length - 4)) << 32);
            hash = (hash ^ tail) * 0xC2B2AE3D27D4EB4F;
        }

        return (int)((hash ^ (hash >> 32)) * 0x9E3779B97F4A7C15 >> (64 - SlotBits));
    }

    private sealed class Entry(byte[] key, int[] ranks)
    {
        public byte[] Key { get; } = key;

        public int[] Ranks { get; } = ranks;
    }
}
