using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace TokenMetrics.Testing.Internal;

/// <summary>Ids and timestamps that are pure functions of the request's prompt.</summary>
internal static class Deterministic
{
    /// <summary>2024-01-01T00:00:00Z: the base of generated <c>created</c> values.</summary>
    private const long BaseUnixSeconds = 1_704_067_200;

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>A prefix plus 24 lowercase hex digits of the hash.</summary>
    public static string Id(string prefix, ReadOnlySpan<byte> hash) =>
        prefix + Convert.ToHexStringLower(hash[..12]);

    /// <summary>A Unix timestamp within a year after <see cref="BaseUnixSeconds"/>.</summary>
    public static long Created(ReadOnlySpan<byte> hash) =>
        BaseUnixSeconds + (BinaryPrimitives.ReadUInt32LittleEndian(hash[12..]) % (365L * 24 * 3600));
}
