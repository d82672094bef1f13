using System.Runtime.CompilerServices;

namespace TokenMetrics.Internal;

/// <summary>Decides sampling per record id: the same record is always kept or always left out (a replayed or re-read record
/// agrees with its first decision), and the decision needs no random state shared between threads.</summary>
internal static class TokenUsageSampling
{
    /// <summary>Whether the record with this id is left out at this ratio.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsSampledOut(Guid id, double ratio) => ratio < 1.0 && (ratio <= 0.0 || Position(id) >= ratio);

    /// <summary>Maps an id to [0, 1) uniformly. Version-7 ids start with a timestamp, so all 16 bytes are mixed (SplitMix64's
    /// finalizer): ids made in the same millisecond still spread evenly.</summary>
    internal static double Position(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        _ = id.TryWriteBytes(bytes);
        var lo = BitConverter.ToUInt64(bytes);
        var hi = BitConverter.ToUInt64(bytes[8..]);
        var x = Mix(lo ^ Mix(hi));
        return (x >> 11) * (1.0 / (1UL << 53));
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
