using System.Text;
using TokenMetrics.Providers.Gemini;
using TokenMetrics.Providers.Rewriting;
using TokenMetrics.Providers.Tests.Support;
using TokenMetrics.Tests.Shared;
using Xunit.Abstractions;

namespace TokenMetrics.Providers.Tests.Gemini;

/// <summary>The search-based chunk path of <see cref="GeminiResponseReader"/> (usageMetadata found by its bytes, not by a whole-chunk
/// parse) against the full parse: same extraction for every stream, whether it takes the fast path or declines.</summary>
public class GeminiChunkFastPathTests(ITestOutputHelper output)
{
    private const string Usage = "\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":%N,\"totalTokenCount\":%T,\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":10}]}";

    // Middle chunks (between a plain first chunk and a plain last chunk) that the fast path must read as the full parse does,
    // or decline. %N and %T are replaced by growing counts.
    public static TheoryData<string, string, bool> MiddleChunks => new()
    {
        { "plain", "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" more\"}],\"role\":\"model\"},\"index\":0}]," + Usage + ",\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}", true },
        { "spaced", "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" more\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 10,\"candidatesTokenCount\": %N,\"totalTokenCount\": %T,\"thoughtsTokenCount\": 3,\"trafficType\": \"ON_DEMAND\",\"candidatesTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": %N}]},\"modelVersion\": \"gemini-2.5-flash\",\"createTime\": \"2025-08-26T10:00:00Z\",\"responseId\": \"r1\"}", true },
        { "tabs", "{\t\"candidates\" : [ {\"content\" : {\"parts\" : [{\"text\" : \" more\"}]}} ] ,\t\"usageMetadata\" :\t{ \"promptTokenCount\" : 10 ,\t\"candidatesTokenCount\" : %N , \"totalTokenCount\" : %T , \"cachedContentTokenCount\" : 4 , \"cacheTokensDetails\" : [ { \"modality\" : \"TEXT\" , \"tokenCount\" : 4 } , { \"modality\" : \"IMAGE\" , \"tokenCount\" : 0 } ] }\t}\t ", true },
        { "usage-last", "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" more\"}]}}]," + Usage + "}", true },
        { "key-in-text-escaped", "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"say \\\"usageMetadata\\\":{\\\"promptTokenCount\\\":999} and \\\"finishReason\\\":\\\"STOP\\\" {[\"}]}}]," + Usage + "}", true },
        { "backslash-before-quote", "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"ends \\\\\"}]}}]," + Usage + ",\"modelVersion\":\"m\"}", true },
        { "tail-scalars", "{\"candidates\":[]," + Usage + ",\"n\":1.5e3,\"b\":true,\"z\":null,\"s\":\"x\\\"}\"}", true },
        { "nested-usage-only", "{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"args\":{\"usageMetadata\":{\"promptTokenCount\":999}}}}]}}]}", false },
        { "nested-usage-then-top", "{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"args\":{\"usageMetadata\":{\"promptTokenCount\":999}}}}]}}]," + Usage + "}", false },
        { "usage-first", "{" + Usage + ",\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" more\"}]}}]}", false },
        { "usage-twice", "{" + Usage.Replace("%N", "1").Replace("%T", "11") + ",\"candidates\":[]," + Usage + "}", false },
        { "finish-reason", "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" more\"}]},\"finishReason\":\"MAX_TOKENS\"}]," + Usage + "}", false },
        { "finish-reason-nested", "{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"args\":{\"finishReason\":\"x\"}}}]}}]," + Usage + "}", false },
        { "prompt-feedback", "{\"candidates\":[],\"promptFeedback\":{\"blockReason\":\"SAFETY\"}," + Usage + "}", false },
        { "error", "{\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\"}," + Usage + "}", false },
        { "escaped-key", "{\"candidates\":[],\"usage\\u004Detadata\":{\"promptTokenCount\":999}," + Usage + "}", false },
        { "fraction", "{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":10.0,\"candidatesTokenCount\":%N,\"totalTokenCount\":%T}}", false },
        { "count-as-string", "{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":\"10\",\"candidatesTokenCount\":%N,\"totalTokenCount\":%T}}", false },
        { "count-null", "{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":null,\"candidatesTokenCount\":%N,\"totalTokenCount\":%T}}", false },
        { "unknown-modality", "{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":%N,\"totalTokenCount\":%T,\"promptTokensDetails\":[{\"modality\":\"MODALITY_UNSPECIFIED\",\"tokenCount\":10}]}}", false },
        { "object-after", "{\"candidates\":[]," + Usage + ",\"extra\":{\"a\":1}}", false },
        { "empty-usage", "{\"candidates\":[],\"usageMetadata\":{}}", true },
    };

    [Theory]
    [MemberData(nameof(MiddleChunks))]
    public void MiddleChunk_ExtractsWhatTheFullParseExtracts(string name, string chunk, bool fast)
    {
        var body = Stream(chunk, middles: 3);

        var full = VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true) { UsageChunkFastPath = false }, body);
        var reader = (GeminiResponseReader)VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true), body);

        Assert.Equal(VendorHarness.Fingerprint(full), VendorHarness.Fingerprint(reader));
        Assert.Equal(((GeminiResponseReader)full).FinishReason, reader.FinishReason);
        Assert.Equal(full.OutputText.GetText(out _), reader.OutputText.GetText(out _));
        Assert.True(fast ? reader.FastChunks == 3 : reader.FastChunks == 0, $"{name}: {reader.FastChunks} chunks read by the fast path");
    }

    [Fact]
    public void BenchmarkStream_TakesTheFastPathForEveryMiddleChunk()
    {
        var body = SseStreamPayloads.Stream(SseStreamFormat.Gemini, 50);

        var full = VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true) { UsageChunkFastPath = false }, body);
        var reader = (GeminiResponseReader)VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true), body);

        Assert.Equal(VendorHarness.Fingerprint(full), VendorHarness.Fingerprint(reader));
        Assert.Equal(48, reader.FastChunks); // not the first (no usage yet), not the last (finishReason)
        Assert.Equal(50, reader.Usage!.OutputTokenCount);
    }

    [Theory]
    [InlineData("gemini/stream-sse.txt", false)]
    [InlineData("gemini/vertex-stream-sse.txt", false)]
    [InlineData("gemini/stream-array.json", true)]
    public void Fixtures_ExtractWhatTheFullParseExtracts_AtEverySplit(string fixture, bool array)
    {
        var body = VendorHarness.Load(fixture);
        var framing = array ? DocumentFraming.Objects : DocumentFraming.Sse;
        var expected = VendorHarness.Fingerprint(VendorHarness.Run(() => new GeminiResponseReader(framing, 1 << 20, streaming: true) { UsageChunkFastPath = false }, body));

        var got = VendorHarness.AssertSplitInvariant(() => new GeminiResponseReader(framing, 1 << 20, streaming: true), body, output, randomPatterns: 50);

        Assert.Equal(expected, got);
    }

    [Fact]
    public void TrickyMiddleChunks_AtEverySplit()
    {
        var chunks = string.Concat(MiddleChunks.Select(row => "data: " + ((string)row[1]).Replace("%N", "5").Replace("%T", "15") + "\r\n\r\n"));
        var body = Stream(string.Empty, middles: 0, extra: chunks);
        var expected = VendorHarness.Fingerprint(VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true) { UsageChunkFastPath = false }, body));

        var got = VendorHarness.AssertSplitInvariant(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true), body, output, randomPatterns: 20);

        Assert.Equal(expected, got);
    }

    [Fact]
    public void RepeatedUsageObjects_AreReadAtTheirPlaces_AcrossDigitAndShapeChanges()
    {
        // Counts that cross from one to three digits, a detail count that follows them, a prompt count that changes at times,
        // and every seventh chunk another shape (spaces, a thoughts count): each must give what the full parse gives.
        var chunks = new StringBuilder();
        for (var i = 1; i <= 150; i++)
        {
            var prompt = 10 + (i / 40);
            chunks.Append("data: ").Append(i % 7 == 0
                ? $"{{\"candidates\": [{{\"content\": {{\"parts\": [{{\"text\": \" w{i}\"}}]}}}}],\"usageMetadata\": {{\"promptTokenCount\": {prompt},\"candidatesTokenCount\": {i},\"totalTokenCount\": {prompt + i},\"thoughtsTokenCount\": {i % 3}}},\"modelVersion\": \"gemini-2.5-flash\"}}"
                : $"{{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\" w{i}\"}}]}}}}],\"usageMetadata\":{{\"promptTokenCount\":{prompt},\"candidatesTokenCount\":{i},\"totalTokenCount\":{prompt + i},\"candidatesTokensDetails\":[{{\"modality\":\"TEXT\",\"tokenCount\":{i}}}]}},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r{i}\"}}")
                .Append("\r\n\r\n");
        }

        var body = Stream(string.Empty, middles: 0, extra: chunks.ToString());
        var full = VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true) { UsageChunkFastPath = false }, body);
        var reader = (GeminiResponseReader)VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true), body);

        Assert.Equal(VendorHarness.Fingerprint(full), VendorHarness.Fingerprint(reader));
        Assert.Equal(150, reader.FastChunks);
        for (var cut = 1; cut <= 5; cut++)
        {
            // And chunk by chunk: the merged usage after each chunk is the full parse's.
            var partial = body.AsSpan(0, body.Length * cut / 6).ToArray();
            Assert.Equal(
                VendorHarness.Fingerprint(VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true) { UsageChunkFastPath = false }, partial)),
                VendorHarness.Fingerprint(VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true), partial)));
        }
    }

    [Fact]
    public void AChunkThatFailsHalfwayThroughItsUsage_DoesNotLeaveItsPlacesForTheNext()
    {
        // B is read by the fast path up to an unknown modality (its counts' places recorded), then declines; C has A's shape
        // again and must be read at A's places, not B's.
        const string A = "{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":5,\"totalTokenCount\":15}}";
        const string B = "{\"candidates\":[],\"usageMetadata\":{\"totalTokenCount\":77,\"promptTokenCount\":11,\"candidatesTokenCount\":6,\"promptTokensDetails\":[{\"modality\":\"MODALITY_X\",\"tokenCount\":1}]}}";
        const string C = "{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":12,\"candidatesTokenCount\":7,\"totalTokenCount\":19}}";
        var body = Encoding.UTF8.GetBytes(string.Concat(new[] { A.Replace("5", "4").Replace("15", "14"), A, B, C }.Select(chunk => "data: " + chunk + "\r\n\r\n")));

        var full = VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true) { UsageChunkFastPath = false }, body);
        var reader = (GeminiResponseReader)VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true), body);

        Assert.Equal(VendorHarness.Fingerprint(full), VendorHarness.Fingerprint(reader));
        Assert.Equal(12, reader.Usage!.InputTokenCount);
        Assert.Equal(19, reader.Usage.TotalTokenCount);
        Assert.Equal(2, reader.FastChunks);
    }

    [Fact]
    public void MalformedChunkWithoutUsage_IsStillCounted()
    {
        var body = Stream("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"cut", middles: 1);

        var reader = (JsonDocumentReader)VendorHarness.Run(() => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true), body);

        Assert.Equal(1, reader.MalformedDocuments);
    }

    /// <summary>A plain first chunk (usage, model, id, text), <paramref name="middles"/> copies of <paramref name="middle"/> with
    /// growing counts, then a plain last chunk with finishReason.</summary>
    private static byte[] Stream(string middle, int middles, string extra = "")
    {
        var sb = new StringBuilder();
        sb.Append("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello\"}],\"role\":\"model\"},\"index\":0}],")
            .Append(Usage.Replace("%N", "1").Replace("%T", "11")).Append(",\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\r\n\r\n");
        for (var i = 0; i < middles; i++)
        {
            sb.Append("data: ").Append(middle.Replace("%N", (i + 2).ToString(System.Globalization.CultureInfo.InvariantCulture)).Replace("%T", (i + 12).ToString(System.Globalization.CultureInfo.InvariantCulture))).Append("\r\n\r\n");
        }

        sb.Append(extra);
        sb.Append("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" end\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],")
            .Append(Usage.Replace("%N", "9").Replace("%T", "19")).Append(",\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\r\n\r\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
