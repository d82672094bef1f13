using System.Buffers;
using System.Text;
using System.Text.Json;
using TokenMetrics.Providers.OpenAI;
using static TokenMetrics.Providers.Tests.Anthropic.ReaderHarness;

namespace TokenMetrics.Providers.Tests.OpenAI;

/// <summary>The Responses stream reader's text-delta fast path (<c>TryObserveTextDelta</c>) against the general path and a
/// <see cref="JsonDocument"/> reading of the same stream: the same usage, model, id, completion and answer text (and, with an
/// output cap, the same bytes for the app), whole and cut at every byte.</summary>
public class OpenAIResponsesFastPathTests
{
    private const string Item = "\"item_id\":\"msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b\",\"output_index\":0,\"content_index\":0";
    private const string Response = "{\"id\":\"resp_67cc\",\"object\":\"response\",\"created_at\":1741476542,\"status\":\"in_progress\",\"model\":\"gpt-4.1-mini-2025-04-14\",\"output\":[],\"usage\":null}";

    /// <summary>Delta values (JSON string literals) in the usual shape.</summary>
    public static readonly string[] Texts =
    [
        "\" word\"",
        "\"\"",
        "\"say \\\"hi\\\"\"",
        "\"\\\"usage\\\":{\\\"input_tokens\\\":5,\\\"output_tokens\\\":7}\"",
        "\"\\\",\\\"delta\\\":\\\"inner\\\",\\\"logprobs\\\":[]\"",
        "\"ends with a backslash \\\\\"",
        "\"\\\\\\\"\"",
        "\"\\u0022quoted\\u0022 \\u0064elta \\ud83d\\ude00\"",
        "\"line\\nbreak\"",
        "\"日本語\"",
        "\",\\\"obfuscation\\\":\\\"x\\\"}\"",
    ];

    /// <summary>The body of a delta event after its type and sequence number: the usual shape with every text (with and without
    /// obfuscation), then shapes the fast path must leave to the general path.</summary>
    public static IEnumerable<string> Bodies()
    {
        foreach (var text in Texts)
        {
            yield return Item + ",\"delta\":" + text + ",\"logprobs\":[]";
            yield return Item + ",\"delta\":" + text + ",\"logprobs\":[],\"obfuscation\":\"aB3\\\"x\"";
        }

        yield return "\"delta\":\" delta first\"," + Item + ",\"logprobs\":[]";
        yield return Item + ",\"delta\":\" no logprobs\"";
        yield return Item + ",\"delta\":\" logprobs\",\"logprobs\":[{\"token\":\"x\",\"logprob\":-0.1}]";
        yield return Item + ", \"delta\": \" spaced\", \"logprobs\": []";
        yield return Item + ",\"usage\":{\"input_tokens\":3,\"output_tokens\":4,\"total_tokens\":7},\"delta\":\" usage in the head\",\"logprobs\":[]";
        yield return Item + ",\"x\":{\"delta\":\"second\"},\"delta\":\" delta twice\",\"logprobs\":[]";
        yield return "\"item_id\":\"a\\\"usage\\\":{\\\"input_tokens\\\":1}\",\"output_index\":0,\"content_index\":0,\"delta\":\" escaped name in head\",\"logprobs\":[]";
        yield return Item + ",\"delta\":\" trailing\",\"logprobs\":[] ";
        yield return Item + ",\"delta\":\"raw\"quote\",\"logprobs\":[]";
    }

    private static string Event(string type, int sequence, string body) =>
        "{\"type\":\"" + type + "\",\"sequence_number\":" + sequence + "," + body + "}";

    private static byte[] Stream(IEnumerable<string> bodies, string lineEnd = "\n")
    {
        var sb = new StringBuilder();
        var seq = 0;
        void Add(string type, string body) => sb.Append("event: ").Append(type).Append(lineEnd).Append("data: ").Append(Event(type, seq++, body)).Append(lineEnd).Append(lineEnd);
        Add("response.created", "\"response\":" + Response);
        foreach (var body in bodies)
        {
            Add("response.output_text.delta", body);
        }

        Add("response.completed", "\"response\":" + Response.Replace("\"usage\":null", "\"usage\":{\"input_tokens\":12,\"output_tokens\":34,\"total_tokens\":46}", StringComparison.Ordinal));
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static string Run(bool fast, byte[] body, out int fastEvents, bool cap = false, params int[] cuts)
    {
        var reader = new OpenAIStreamReader(OpenAIOperation.Responses, 1 << 20, withholdInjectedUsage: false) { FastPath = fast };
        if (cap)
        {
            reader.EnableCap(new TokenMetrics.Internal.StreamOutputCap(1_000_000, null));
        }

        var output = FeedThrough(reader, body, cuts);
        var result = Describe(reader) + "\n" + output;
        fastEvents = reader.FastPathChunks;
        reader.Dispose();
        reader.ResetOutputText();
        return result;
    }

    [Fact]
    public void EveryDelta_FastPathGivesTheGeneralPathsResult_AndAJsonDocumentsText()
    {
        foreach (var body in Bodies())
        {
            var stream = Stream([body]);
            var general = Run(fast: false, stream, out _);
            Assert.True(general == Run(fast: true, stream, out _), body);
            Assert.Contains("out=34", general, StringComparison.Ordinal);
            var json = Event("response.output_text.delta", 1, body);
            // Not compared with the document: a nested "delta" string, read too by both paths, and a spaced "delta": " x", which
            // the general path's search for "delta":" does not find (as before this fast path; both paths agree).
            if (IsJson(json) && !body.Contains("delta twice", StringComparison.Ordinal) && !body.Contains("spaced", StringComparison.Ordinal))
            {
                using var doc = JsonDocument.Parse(json);
                var reference = doc.RootElement.GetProperty("delta").GetString()!;
                var outcome = general[..general.LastIndexOf('\n')];
                Assert.True(reference.Length == 0 ? !outcome.Contains(" text=", StringComparison.Ordinal) : outcome.EndsWith(" text=" + reference, StringComparison.Ordinal), $"{body}: {outcome}");
            }
        }
    }

    [Fact]
    public void UsualDeltas_TakeTheFastPath_OthersDoNot()
    {
        foreach (var body in Bodies().Take(Texts.Length * 2))
        {
            Run(fast: true, Stream([body]), out var taken);
            Assert.True(taken == 1, body);
        }

        foreach (var body in Bodies().Skip(Texts.Length * 2))
        {
            // An escaped quote does not make the general path's "usage": match: that head is plain, the rest are not.
            Run(fast: true, Stream([body]), out var taken);
            Assert.True(taken == (body.Contains("escaped name in head", StringComparison.Ordinal) ? 1 : 0), body);
        }

        Run(fast: true, SseStreamPayloads.Stream(SseStreamFormat.OpenAIResponses, 100), out var benchmark);
        Assert.Equal(92, benchmark);
    }

    [Fact]
    public void TheHeadIsCheckedAgain_WhenItChangesInMoreThanDigits()
    {
        // The first delta's head is plain and kept; the second differs from it in a letter only where it spells a usage member.
        var plain = "\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\" a\",\"logprobs\":[]";
        var usage = "\"usage\":{\"input_tokens\":1},\"output_index\":0,\"content_index\":0,\"delta\":\" b\",\"logprobs\":[]";
        var stream = Stream([plain, usage, plain]);
        Assert.Equal(Run(fast: false, stream, out _), Run(fast: true, stream, out var taken));
        Assert.Equal(2, taken);
    }

    [Theory]
    [InlineData("\n", false)]
    [InlineData("\r\n", false)]
    [InlineData("\n", true)]
    public void TrickyStream_CutAtEveryByte_SameAsTheGeneralPathWhole(string lineEnd, bool cap)
    {
        var body = Stream(Bodies(), lineEnd);
        var expected = Run(fast: false, body, out _, cap);
        Assert.Contains("out=34", expected, StringComparison.Ordinal);
        for (var cut = 1; cut < body.Length; cut++)
        {
            Assert.True(expected == Run(fast: true, body, out _, cap, cut), $"cut at {cut}");
        }
    }

    [Fact]
    public void BenchmarkStream_CutAtEveryByte_SameAsTheGeneralPathWhole()
    {
        var body = SseStreamPayloads.Stream(SseStreamFormat.OpenAIResponses, 12);
        var expected = Run(fast: false, body, out _);
        for (var cut = 1; cut < body.Length; cut++)
        {
            Assert.True(expected == Run(fast: true, body, out _, cuts: cut), $"cut at {cut}");
        }
    }

    private static bool IsJson(string json)
    {
        try
        {
            using var _ = JsonDocument.Parse(json);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
