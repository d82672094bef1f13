using System.Text;
using TokenMetrics.Cli.Ingest;

namespace TokenMetrics.Cli.Tests.Ingest;

/// <summary>The parser reuses state line after line (a scratch map for token details, recent session id strings): each line's
/// record must still carry exactly its own values.</summary>
public sealed class HigressLineParserTests
{
    private static readonly DateTimeOffset FileTime = new(2026, 2, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Details_and_session_ids_are_each_lines_own_when_lines_alternate()
    {
        var parser = new HigressLineParser(TokenUsagePriceCatalog.Default, captureContent: false);
        var lines = new List<(string Session, string? Details, long? Cached)>();
        for (var i = 0; i < 600; i++)
        {
            // Sessions interleave (more than the table holds), some repeat at once; details alternate between shared
            // values, unique ones, two entries, none and an object without counts.
            var session = i % 7 == 0 ? "s-" + (i / 7) : "s-" + (i % 300);
            var (details, cached) = (i % 5) switch
            {
                0 => ("{\\\"cached_tokens\\\":0}", (long?)0),
                1 => ("{\\\"cached_tokens\\\":" + i + ",\\\"audio_tokens\\\":2}", i),
                2 => (null, null),
                3 => ("{\\\"audio_tokens\\\":\\\"x\\\"}", null),
                _ => ("{\\\"cached_tokens\\\":7}", 7),
            };
            lines.Add((session, details, cached));
        }

        for (var i = 0; i < lines.Count; i++)
        {
            var (session, details, cached) = lines[i];
            var escapedSession = i % 11 == 0 ? session.Replace("s-", "s\\\\u002d", StringComparison.Ordinal) : session;
            var aiLog = "{\\\"session_id\\\":\\\"" + escapedSession + "\\\",\\\"model\\\":\\\"gpt-4o\\\",\\\"input_token\\\":100,\\\"output_token\\\":5"
                + (details is null ? string.Empty : ",\\\"input_token_details\\\":\\\"" + details.Replace("\\\"", "\\\\\\\"", StringComparison.Ordinal) + "\\\"")
                + "}";
            var line = Encoding.UTF8.GetBytes("{\"start_time\":\"2026-02-01T10:00:00.000Z\",\"ai_log\":\"" + aiLog + "\"}");
            Assert.True(parser.TryParse(line, i * 1000L, FileTime, out var record, out var problem), problem);
            Assert.Equal(session, record!.SessionId);
            Assert.Equal(cached, record.Usage.CachedInputTokenCount);
            var expected = (i % 5) switch
            {
                0 => new Dictionary<string, long> { ["cached_tokens"] = 0 },
                1 => new Dictionary<string, long> { ["cached_tokens"] = i, ["audio_tokens"] = 2 },
                4 => new Dictionary<string, long> { ["cached_tokens"] = 7 },
                _ => null,
            };
            if (expected is null)
            {
                Assert.Null(record.Usage.InputTokenDetails);
            }
            else
            {
                Assert.Equal(expected.OrderBy(p => p.Key), record.Usage.InputTokenDetails!.OrderBy(p => p.Key));
            }
        }
    }
}
