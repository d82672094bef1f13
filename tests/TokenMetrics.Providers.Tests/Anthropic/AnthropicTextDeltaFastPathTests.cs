using System.Text;
using System.Text.Json;
using TokenMetrics.Providers.Anthropic;
using static TokenMetrics.Providers.Tests.Anthropic.ReaderHarness;

namespace TokenMetrics.Providers.Tests.Anthropic;

/// <summary>The Anthropic stream reader's text-delta fast path (<c>TryTextDelta</c>) against the general path and a
/// <see cref="JsonDocument"/> reading of the same stream: the same usage, stop, model, id and answer text, whole and cut at every
/// byte, for deltas that are tricky in their text, their shape or their place.</summary>
public class AnthropicTextDeltaFastPathTests
{
    private const string Start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01X\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n";
    private const string End = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":42}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    /// <summary>Text values (JSON string literals) in the usual delta shape.</summary>
    public static readonly string[] Texts =
    [
        "\" token\"",
        "\"\"",
        "\"say \\\"hi\\\"\"",
        "\"\\\"delta\\\":{\\\"type\\\":\\\"text_delta\\\",\\\"text\\\":\\\"inner\"",
        "\"\\\"text\\\":\\\"x\\\"}}\"",
        "\"ends with a backslash \\\\\"",
        "\"\\\\\\\"\"",
        "\"\\u0022quoted\\u0022 \\u0074ext \\ud83d\\ude00\"",
        "\"line\\nbreak\"",
        "\"日本語 ünïcödé\"",
        "\"\\\"}}\"",
    ];

    /// <summary>Delta events: the usual shape with every text, then shapes the fast path must leave to the general path.</summary>
    public static IEnumerable<string> Deltas()
    {
        foreach (var text in Texts)
        {
            yield return "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":" + text + "}}";
        }

        yield return "{\"type\":\"content_block_delta\",\"index\":12,\"delta\":{\"type\":\"text_delta\",\"text\":\" twelve\"}}";
        yield return "{\"type\":\"content_block_delta\",\"delta\":{\"text\":\" reordered\",\"type\":\"text_delta\"},\"index\":0}";
        yield return "{\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\" no index\"}}";
        yield return "{\"index\":0,\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\" type second\"}}";
        yield return "{\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": \" spaced\"}}";
        yield return "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" trailing\"}} ";
        yield return "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\"}}";
        yield return "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\" hmm\"}}";
        yield return "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"abc\"}}";
        yield return "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" extra\",\"citations\":[]}}";
        yield return "{\"type\":\"content_block_delta\",\"index\":-1,\"delta\":{\"type\":\"text_delta\",\"text\":\" negative\"}}";
        yield return "{\"type\":\"content_block_delta\",\"index\":0,\"usage\":{\"output_tokens\":99},\"delta\":{\"type\":\"text_delta\",\"text\":\" usage inside\"}}";
        yield return "{\"type\":\"content_block_delta\",\"index\":0,\"x\":{\"delta\":{\"text\":\" nested first\"}},\"delta\":{\"type\":\"text_delta\",\"text\":\" real\"}}";
        yield return "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"raw\"quote\"}}";
    }

    private static byte[] Stream(IEnumerable<string> deltas, bool eventLines = true, string lineEnd = "\n")
    {
        var sb = new StringBuilder(Start);
        foreach (var delta in deltas)
        {
            sb.Append(eventLines ? "event: content_block_delta\n" : string.Empty).Append("data: ").Append(delta).Append("\n\n");
        }

        return Encoding.UTF8.GetBytes(sb.Append(End).ToString().Replace("\n", lineEnd, StringComparison.Ordinal));
    }

    private static string Run(bool fast, byte[] body, params int[] cuts) => Run(fast, body, out _, cuts);

    private static string Run(bool fast, byte[] body, out int fastEvents, params int[] cuts)
    {
        var reader = Feed(new AnthropicStreamReader(1 << 20) { TextDeltaFastPath = fast }, body, cuts);
        var result = Describe(reader);
        fastEvents = reader.TextDeltaFastEvents;
        reader.Dispose();
        return result;
    }

    [Fact]
    public void EveryDelta_FastPathGivesTheGeneralPathsResult_AndAJsonDocumentsText()
    {
        foreach (var delta in Deltas())
        {
            foreach (var eventLines in new[] { true, false })
            {
                var body = Stream([delta], eventLines);
                var general = Run(fast: false, body);
                Assert.True(general == Run(fast: true, body), delta);
                // (The general path reads the first "delta" member, nested or not: that one is compared with the general path only.)
                if (IsJson(delta) && !delta.Contains("nested first", StringComparison.Ordinal))
                {
                    var reference = ReferenceText([delta]);
                    Assert.True(reference.Length == 0 ? !general.Contains(" text=", StringComparison.Ordinal) : general.EndsWith(" text=" + reference, StringComparison.Ordinal), $"{delta}: {general}");
                }
            }
        }
    }

    [Fact]
    public void UsualDeltas_TakeTheFastPath_OthersDoNot()
    {
        foreach (var text in Texts)
        {
            Run(fast: true, Stream(["{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":" + text + "}}"]), out var taken);
            Assert.True(taken == 1, text);
        }

        foreach (var other in Deltas().Skip(Texts.Length + 1))
        {
            Run(fast: true, Stream([other]), out var taken);
            Assert.True(taken == 0, other);
        }

        Run(fast: true, SseStreamPayloads.Stream(SseStreamFormat.Anthropic, 100), out var benchmark);
        Assert.Equal(94, benchmark);
    }

    [Theory]
    [InlineData(true, "\n")]
    [InlineData(false, "\r\n")]
    public void TrickyStream_CutAtEveryByte_SameAsTheGeneralPathWhole(bool eventLines, string lineEnd)
    {
        var body = Stream(Deltas(), eventLines, lineEnd);
        var expected = Run(fast: false, body);
        Assert.Contains("out=42", expected, StringComparison.Ordinal);
        for (var cut = 1; cut < body.Length; cut++)
        {
            Assert.True(expected == Run(fast: true, body, cut), $"cut at {cut}");
        }
    }

    [Fact]
    public void BenchmarkStream_CutAtEveryByte_SameAsTheGeneralPathWhole()
    {
        var body = SseStreamPayloads.Stream(SseStreamFormat.Anthropic, 12);
        var expected = Run(fast: false, body);
        for (var cut = 1; cut < body.Length; cut++)
        {
            Assert.True(expected == Run(fast: true, body, cut), $"cut at {cut}");
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

    /// <summary>The answer text a <see cref="JsonDocument"/> reads from the deltas: text, partial JSON or thinking, in order.</summary>
    private static string ReferenceText(IEnumerable<string> deltas)
    {
        var text = new StringBuilder();
        foreach (var delta in deltas)
        {
            using var doc = JsonDocument.Parse(delta);
            var d = doc.RootElement.GetProperty("delta");
            foreach (var name in new[] { "text", "partial_json", "thinking" })
            {
                if (d.TryGetProperty(name, out var value))
                {
                    text.Append(value.GetString());
                    break;
                }
            }
        }

        return text.ToString();
    }
}
