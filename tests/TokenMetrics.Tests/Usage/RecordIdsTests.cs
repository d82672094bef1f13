using System.Buffers.Binary;
using TokenMetrics.Internal;

namespace TokenMetrics.Tests.Usage;

/// <summary>Record ids come from <see cref="RecordIds"/> (a pseudo-random generator, not a system call per record): they must keep
/// Guid.CreateVersion7's layout, its time order, and stay unique.</summary>
public sealed class RecordIdsTests
{
    [Fact]
    public void Ids_are_version_7_with_the_rfc_variant_and_carry_the_current_millisecond()
    {
        var bytes = new byte[16];
        for (var i = 0; i < 1000; i++)
        {
            var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var id = RecordIds.NewVersion7();
            var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Assert.Equal(7, id.Version);
            Assert.Equal(0b10, id.Variant >> 2); // RFC 9562: 10xx
            Assert.True(id.TryWriteBytes(bytes, bigEndian: true, out _));
            Assert.InRange((long)(BinaryPrimitives.ReadUInt64BigEndian(bytes) >> 16), before, after);
        }
    }

    [Fact]
    public void Ids_are_distinct_and_sort_by_time_like_CreateVersion7()
    {
        var ids = new HashSet<Guid>();
        for (var i = 0; i < 100_000; i++)
        {
            Assert.True(ids.Add(RecordIds.NewVersion7()));
        }

        var first = RecordIds.NewVersion7();
        var start = DateTime.UtcNow;
        while (DateTime.UtcNow - start < TimeSpan.FromMilliseconds(3))
        {
            // Let the clock pass at least one millisecond (bounded: 3 ms).
        }

        var later = RecordIds.NewVersion7();
        Assert.True(string.CompareOrdinal(later.ToString(), first.ToString()) > 0);
        Assert.True(string.CompareOrdinal(Guid.CreateVersion7().ToString()[..8], first.ToString()[..8]) >= 0);
    }

    [Fact]
    public void A_new_record_gets_a_fresh_id()
    {
        var a = new TokenUsageRecord();
        var b = new TokenUsageRecord();
        Assert.NotEqual(a.Id, b.Id);
        Assert.Equal(7, a.Id.Version);
    }
}
