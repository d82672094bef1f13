using System.Text;
using System.Text.Json;

namespace TokenMetrics.Tokenizer.Tests;

/// <summary>Token ids identical to the oracle (tiktoken WASM) on the committed multilingual corpus, for every encoding.</summary>
public class CorpusTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var golden in TestFiles.JsonLines("goldens/corpus.jsonl.gz"))
        {
            data.Add(golden.GetProperty("file").GetString()!, golden.GetProperty("encoding").GetString()!);
        }

        return data;
    }

    [Fact]
    public void CorpusIsAtLeastFiveMegabytes()
    {
        var files = TestFiles.JsonLines("goldens/corpus.jsonl.gz").Where(g => g.GetProperty("encoding").GetString() == "cl100k_base").ToList();
        Assert.True(files.Sum(f => f.GetProperty("bytes").GetInt64()) >= 5_000_000);
        Assert.Contains(files, f => f.GetProperty("file").GetString() == "chinese.txt");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void WholeFileIdsMatchOracle(string file, string encodingName)
    {
        var golden = TestFiles.JsonLines("goldens/corpus.jsonl.gz")
            .Single(g => g.GetProperty("file").GetString() == file && g.GetProperty("encoding").GetString() == encodingName);
        var data = TestFiles.Corpus(file);
        Assert.Equal(golden.GetProperty("bytes").GetInt32(), data.Length);
        var encoding = TiktokenEncoding.GetEncoding(encodingName);

        var ids = encoding.EncodeUtf8(data);
        var expectedTokens = golden.GetProperty("tokens").GetInt32();
        if (TestFiles.HashIds(ids) != golden.GetProperty("sha256").GetString())
        {
            ReportFirstBadChunk(encoding, data, golden);
        }

        Assert.Equal(expectedTokens, ids.Length);
        Assert.Equal(golden.GetProperty("sha256").GetString(), TestFiles.HashIds(ids));
        Assert.Equal(expectedTokens, encoding.CountTokens(data));
        Assert.Equal(expectedTokens, encoding.CountTokens(Encoding.UTF8.GetString(data)));
        Assert.Equal(data, encoding.DecodeToBytes(ids));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ChunkIdsMatchOracle(string file, string encodingName)
    {
        var golden = TestFiles.JsonLines("goldens/corpus.jsonl.gz")
            .Single(g => g.GetProperty("file").GetString() == file && g.GetProperty("encoding").GetString() == encodingName);
        var data = TestFiles.Corpus(file);
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        var expected = golden.GetProperty("chunks").GetString()!.Split(',');
        var chunks = TestFiles.Chunks(data).ToList();
        Assert.Equal(expected.Length, chunks.Count);
        for (var i = 0; i < chunks.Count; i++)
        {
            var chunk = data.AsSpan(chunks[i].Start, chunks[i].Length);
            var ids = encoding.EncodeUtf8(chunk);
            var actual = $"{ids.Length}:{TestFiles.HashIds(ids)[..16]}";
            Assert.True(expected[i] == actual, $"chunk {i} at byte {chunks[i].Start}: expected {expected[i]}, got {actual}");
            Assert.Equal(ids.Length, encoding.CountTokens(chunk));
        }
    }

    [Theory]
    [InlineData("english.txt", "cl100k_base")]
    [InlineData("chinese.txt", "o200k_base")]
    [InlineData("edge-cases.txt", "o200k_base")]
    [InlineData("code.txt", "p50k_base")]
    public async Task StreamCountEqualsWholeCount(string file, string encodingName)
    {
        var data = TestFiles.Corpus(file);
        var encoding = TiktokenEncoding.GetEncoding(encodingName);
        var reports = new List<long>();
        using var stream = new SmallReadStream(data, 10_000);
        var count = await encoding.CountTokensAsync(stream, new SyncProgress(reports.Add));
        Assert.Equal(encoding.CountTokens(data), count);
        Assert.True(reports.Count > 10, $"only {reports.Count} progress reports");
        Assert.Equal(data.Length, reports[^1]);
    }

    private void ReportFirstBadChunk(TiktokenEncoding encoding, byte[] data, JsonElement golden)
    {
        // Helps diagnose: show the first chunk whose pieces differ from the reference implementation.
        var expected = golden.GetProperty("chunks").GetString()!.Split(',');
        var i = 0;
        foreach (var (start, length) in TestFiles.Chunks(data))
        {
            var ids = encoding.EncodeUtf8(data.AsSpan(start, length));
            if (expected[i] != $"{ids.Length}:{TestFiles.HashIds(ids)[..16]}")
            {
                var text = Encoding.UTF8.GetString(data, start, length);
                var reference = ReferenceTokenizer.Get(encoding.Name).Encode(text);
                var k = 0;
                while (k < Math.Min(ids.Length, reference.Count) && ids[k] == reference[k])
                {
                    k++;
                }

                output.WriteLine($"chunk {i}: first difference at token {k}: ours {string.Join(",", ids.Skip(k).Take(5))} reference {string.Join(",", reference.Skip(k).Take(5))}");
                output.WriteLine($"context: {JsonSerializer.Serialize(encoding.Decode(ids.Skip(Math.Max(0, k - 3)).Take(8).ToArray()))}");
                return;
            }

            i++;
        }
    }

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }

    /// <summary>Returns at most a few bytes per read, so the counter must carry state across cuts.</summary>
    private sealed class SmallReadStream(byte[] data, int maxRead) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, maxRead));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, maxRead)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, maxRead)], cancellationToken);
    }
}
