using System.Text;
using TokenMetrics.Cli.Ingest;

namespace TokenMetrics.Cli.Tests.Ingest;

public sealed class HigressLineIdTests
{
    private static readonly DateTimeOffset T0 = new(2026, 2, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_same_line_at_the_same_offset_gets_the_same_id_and_anything_else_another()
    {
        var line = Encoding.UTF8.GetBytes("{\"start_time\":\"2026-02-01T10:00:00.000Z\",\"ai_log\":\"{}\"}");
        var id = HigressLineParser.IdOf(line, 120, T0);
        Assert.Equal(id, HigressLineParser.IdOf(line, 120, T0));
        Assert.NotEqual(id, HigressLineParser.IdOf(line, 121, T0));
        Assert.NotEqual(id, HigressLineParser.IdOf(line.AsSpan(1), 120, T0));
        Assert.Equal(HigressLineParser.IdOf(line, 120, null), HigressLineParser.IdOf(line, 120, null));
        Assert.NotEqual(id, HigressLineParser.IdOf(line, 120, null));
    }

    [Fact]
    public void Ids_start_with_the_line_time_so_a_log_in_time_order_gets_ascending_ids()
    {
        var ids = Enumerable.Range(0, 200)
            .Select(i => HigressLineParser.IdOf(Encoding.UTF8.GetBytes("line " + i), i * 100L, T0.AddMilliseconds(i * 37)).ToByteArray(bigEndian: true))
            .ToList();
        for (var i = 1; i < ids.Count; i++)
        {
            Assert.True(ids[i - 1].AsSpan().SequenceCompareTo(ids[i]) < 0, $"id {i} sorts before id {i - 1}");
        }

        var ms = T0.ToUnixTimeMilliseconds();
        Assert.Equal(ms, ids[0].Take(6).Aggregate(0L, (a, b) => (a << 8) | b));
        Assert.All(ids, id => Assert.Equal(0x80, id[6] & 0xF0)); // version 8
        Assert.All(ids, id => Assert.Equal(0x80, id[8] & 0xC0)); // RFC 9562 variant
    }
}
