using System.Globalization;
using System.Text;
using System.Text.Json;
using TokenMetrics.Providers.Gemini;
using TokenMetrics.Providers.Rewriting;
using TokenMetrics.Providers.Tests.Support;
using Xunit.Abstractions;

namespace TokenMetrics.Providers.Tests.Gemini;

/// <summary><see cref="GeminiResponseReader"/>'s changed-counts path (only the counts that differ from the last chunk's usage
/// object are read) against the slot path (<c>ChangedCountsOnly = false</c>), the full parse (<c>UsageChunkFastPath = false</c>)
/// and a <see cref="JsonDocument"/> reading (last value per field), for streams whose chunks change in every way the path must
/// notice: counts, details, digit counts, digits outside counts, shapes, fields set twice, a full-parse chunk in between.</summary>
public class GeminiChangedCountsTests(ITestOutputHelper output)
{
    private static string Chunk(int kind, int i)
    {
        var n = i + 1;
        var text = kind == 11 ? "say \\\"usageMetadata\\\":{\\\"promptTokenCount\\\":999} \\u0022x\\u0022" : " w" + i;
        var prompt = kind == 3 ? 11 + (i % 5) : 10;
        var detail = kind == 2 ? 10 + (i % 4) : prompt;
        var model = kind == 8 ? "gemini-2." + (i % 9) + "-flash" : "gemini-2.5-flash";
        var count = kind == 4 ? (n * 37).ToString(CultureInfo.InvariantCulture) : n.ToString(CultureInfo.InvariantCulture);
        var usage = kind switch
        {
            5 => $"{{\"promptTokenCount\":{prompt},\"candidatesTokenCount\":0{n % 10},\"totalTokenCount\":{prompt + n}}}",
            6 => $"{{\"promptTokenCount\":{prompt},\"candidatesTokenCount\":{n},\"totalTokenCount\":{prompt + n},\"responseTokenCount\":{n + (i % 3)}}}",
            9 => $"{{\"promptTokenCount\":{prompt},\"candidatesTokenCount\":{n},\"totalTokenCount\":{prompt + n + 2},\"thoughtsTokenCount\":{i % 3}}}",
            _ => $"{{\"promptTokenCount\":{prompt},\"candidatesTokenCount\":{count},\"totalTokenCount\":{prompt + n},\"promptTokensDetails\":[{{\"modality\":\"TEXT\",\"tokenCount\":{detail}}}]}}",
        };
        var finish = kind == 7 ? ",\"finishReason\":\"MAX_TOKENS\"" : string.Empty;
        return kind == 10
            ? $"{{\"usageMetadata\":{usage},\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"{text}\"}}],\"role\":\"model\"}},\"index\":0}}],\"modelVersion\":\"{model}\"}}"
            : $"{{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"{text}\"}}],\"role\":\"model\"}}{finish},\"index\":0}}],\"usageMetadata\":{usage},\"modelVersion\":\"{model}\",\"responseId\":\"r1\"}}";
    }

    /// <summary>Runs of chunks of one kind (0 and 1: only counts grow), kinds changing at random.</summary>
    private static List<string> Chunks(int seed, int count)
    {
        var random = new Random(seed);
        var chunks = new List<string>();
        var kind = 0;
        for (var i = 0; i < count; i++)
        {
            if (random.Next(4) == 0)
            {
                kind = random.Next(12);
            }

            chunks.Add(Chunk(kind, i));
        }

        return chunks;
    }

    private static byte[] Stream(IEnumerable<string> chunks) =>
        Encoding.UTF8.GetBytes(string.Concat(chunks.Select(c => "data: " + c + "\r\n\r\n")));

    private static GeminiResponseReader Create(int path) => new(DocumentFraming.Sse, 1 << 20, streaming: true)
    {
        ChangedCountsOnly = path == 0,
        UsageChunkFastPath = path < 2,
    };

    /// <summary>Last value per field, read with <see cref="JsonDocument"/>: input = prompt + tool-use prompt, output = candidates
    /// (or responseTokenCount, the later of the two) + thoughts.</summary>
    private static string Reference(IEnumerable<string> chunks)
    {
        var last = new Dictionary<string, long>();
        foreach (var chunk in chunks)
        {
            try
            {
                using var doc = JsonDocument.Parse(chunk);
                foreach (var p in doc.RootElement.GetProperty("usageMetadata").EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.Number)
                    {
                        last[p.Name == "responseTokenCount" ? "candidatesTokenCount" : p.Name] = p.Value.GetInt64();
                    }
                }
            }
            catch (JsonException)
            {
                // Malformed (a leading zero): skipped by every path.
            }
        }

        long Get(string name) => last.GetValueOrDefault(name);
        return $"in={Get("promptTokenCount")} out={Get("candidatesTokenCount") + Get("thoughtsTokenCount")} total={Get("totalTokenCount")}";
    }

    [Fact]
    public void RandomStreams_ChangedCountsGiveTheSlotPathsTheFullParsesAndAJsonDocumentsUsage()
    {
        var changedChunks = 0;
        for (var seed = 0; seed < 60; seed++)
        {
            var chunks = Chunks(seed, 40);
            var body = Stream(chunks);
            var changed = (GeminiResponseReader)VendorHarness.Run(() => Create(0), body);
            var slots = VendorHarness.Run(() => Create(1), body);
            var full = VendorHarness.Run(() => Create(2), body);
            Assert.Equal(VendorHarness.Fingerprint(full), VendorHarness.Fingerprint(slots));
            Assert.True(VendorHarness.Fingerprint(full) == VendorHarness.Fingerprint(changed), $"seed {seed}");
            var u = changed.Usage!;
            Assert.True(Reference(chunks) == $"in={u.InputTokenCount} out={u.OutputTokenCount} total={u.TotalTokenCount}", $"seed {seed}");
            changedChunks += changed.ChangedCountChunks;

            // And chunk by chunk: the usage after each prefix of the stream is the full parse's.
            for (var k = 1; k < chunks.Count; k += 3)
            {
                var prefix = Stream(chunks.Take(k));
                Assert.True(
                    VendorHarness.Fingerprint(VendorHarness.Run(() => Create(2), prefix)) == VendorHarness.Fingerprint(VendorHarness.Run(() => Create(0), prefix)),
                    $"seed {seed}, {k} chunks");
            }
        }

        Assert.True(changedChunks > 500, $"{changedChunks} chunks read by the changed-counts path");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(8)]
    public void EachKindAfterThePlainOne_AtEverySplit(int kind)
    {
        var chunks = Enumerable.Range(0, 4).Select(i => Chunk(0, i)).Concat(Enumerable.Range(4, 4).Select(i => Chunk(kind, i))).Append(Chunk(0, 8)).ToList();
        var body = Stream(chunks);
        var expected = VendorHarness.Fingerprint(VendorHarness.Run(() => Create(2), body));
        Assert.Equal(expected, VendorHarness.AssertSplitInvariant(() => Create(0), body, output, randomPatterns: 20));
    }

    [Theory]
    [InlineData(",\"finishReason\":\"MAX_TOKENS\"")]
    [InlineData(",\"safetyRatings\":[{\"category\":\"x\",\"probability\":\"NEGLIGIBLE\"}],\"finishReason\":\"SAFETY\"")]
    public void AChunkReadByTheFullParseInBetween_IsNotTakenForTheKeptObject(string finish)
    {
        // The kept object says prompt 10; a full-parse chunk sets 99; the next chunk says 10 again, unchanged from the kept
        // object but not from the merged usage: it must be read.
        string Plain(int prompt, int n) => $"{{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\" w\"}}],\"role\":\"model\"}},\"index\":0}}],\"usageMetadata\":{{\"promptTokenCount\":{prompt},\"candidatesTokenCount\":{n},\"totalTokenCount\":{prompt + n}}},\"modelVersion\":\"m\",\"responseId\":\"r\"}}";
        var full = Plain(99, 4).Replace(",\"index\":0}]", finish + ",\"index\":0}]", StringComparison.Ordinal);
        var body = Stream([Plain(10, 1), Plain(10, 2), Plain(10, 3), full, Plain(10, 5)]);
        var reader = (GeminiResponseReader)VendorHarness.Run(() => Create(0), body);
        Assert.Equal(VendorHarness.Fingerprint(VendorHarness.Run(() => Create(2), body)), VendorHarness.Fingerprint(reader));
        Assert.Equal(10, reader.Usage!.InputTokenCount);
        Assert.Equal(1, reader.ChangedCountChunks);
    }

    [Fact]
    public void BenchmarkStream_ReadsEveryMiddleChunkByItsChangedCounts()
    {
        var body = SseStreamPayloads.Stream(SseStreamFormat.Gemini, 50);
        var reader = (GeminiResponseReader)VendorHarness.Run(() => Create(0), body);
        Assert.Equal(VendorHarness.Fingerprint(VendorHarness.Run(() => Create(2), body)), VendorHarness.Fingerprint(reader));
        Assert.Equal(48, reader.FastChunks);
        // The first fast chunk keeps the object; so does the one where the candidates count grows from 9 to 10 (one more digit).
        Assert.Equal(46, reader.ChangedCountChunks);
    }
}
