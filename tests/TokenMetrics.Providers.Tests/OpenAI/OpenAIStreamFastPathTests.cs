using System.Buffers;
using System.Text;
using System.Text.Json;
using TokenMetrics.Providers.OpenAI;
using static TokenMetrics.Providers.Tests.Anthropic.ReaderHarness;

namespace TokenMetrics.Providers.Tests.OpenAI;

/// <summary>The Chat Completions stream reader's fast path (the usual content chunk, recognised from its end) against the general
/// path and against a full parse: the same usage, model, id, completion, error, answer text and, when the injected usage is
/// withheld, the same bytes for the app, whole and split at every byte.</summary>
public class OpenAIStreamFastPathTests
{
    private const string Head = "{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":";
    private const string Tail = "},\"logprobs\":null,\"finish_reason\":null}]";

    /// <summary>Content deltas (JSON string literals) the fast path takes, each tricky in its own way.</summary>
    private static readonly string[] Contents =
    [
        "\" word\"",
        "\"\"",
        "\"say \\\"hi\\\" now\"",
        "\"\\\"usage\\\":{\\\"prompt_tokens\\\":5,\\\"completion_tokens\\\":7}\"",
        "\"ends with a backslash \\\\\"",
        "\"\\\\\\\"\"",
        "\"\\\\\"",
        "\"\\\"\"",
        "\"\\u00e9\\ud83d\\ude00 \\u0022quoted\\u0022 \\u0075sage\"",
        "\"\\\"},\\\"logprobs\\\":null,\\\"finish_reason\\\":null}],\\\"usage\\\":null}\"",
        "\"\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{\\\"content\\\":\\\"x\"",
        "\"\\\"arguments\\\":\\\"{}\\\",\\\"finish_reason\\\":\\\"stop\\\"\"",
        "\"日本語 ünïcödé\"",
        "\"line\\nbreak\\ttab\\r\\n\"",
        "\",\\\"obfuscation\\\":\\\"x\\\"}\"",
    ];

    /// <summary>Whole chunks: the usual shape with every content, usage null or absent, obfuscation or not, and chunks the fast
    /// path must leave to the general path.</summary>
    public static IEnumerable<string> Chunks()
    {
        foreach (var content in Contents)
        {
            var choices = "[{\"index\":0,\"delta\":{\"content\":" + content + Tail;
            yield return Head + choices + ",\"usage\":null}";
            yield return Head + choices + "}";
            yield return Head + choices + ",\"usage\":null,\"obfuscation\":\"aB3xZ\"}";
            yield return Head + choices + ",\"obfuscation\":\"q\\\"9\"}";
        }

        yield return Head + "[{\"index\":12,\"delta\":{\"content\":\" twelve\"" + Tail + ",\"usage\":null}";
        yield return Head + "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null" + Tail + ",\"usage\":null}";
        yield return Head + "[{\"index\":0,\"delta\":{\"content\":\"a\"" + Tail.Replace("}]", "}", StringComparison.Ordinal) + ",{\"index\":1,\"delta\":{\"content\":\"b\"" + Tail + ",\"usage\":null}";
        yield return Head + "[{\"index\":0,\"delta\":{\"content\":\"last\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}";
        yield return Head + "[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]" + Tail + ",\"usage\":null}";
        yield return Head + "[{\"index\":0,\"delta\":{\"content\":\"x\",\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]" + Tail + "}";
        yield return Head + "[{\"index\":0,\"delta\":{\"content\":\"nested\",\"annotations\":[{\"type\":\"x\",\"meta\":{\"a\":{\"b\":null}}}]" + Tail + ",\"usage\":null}";
        yield return Head + "[],\"usage\":null}";
        yield return Head + "[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":30,\"total_tokens\":42,\"prompt_tokens_details\":{\"cached_tokens\":4},\"completion_tokens_details\":{\"reasoning_tokens\":2}}}";
        yield return Head.Replace(",\"choices\":", ",\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7},\"choices\":", StringComparison.Ordinal) + "[{\"index\":0,\"delta\":{\"content\":\" head usage\"" + Tail + "}";
        yield return Head.Replace(",\"choices\":", ",\"usage\":null,\"choices\":", StringComparison.Ordinal) + "[{\"index\":0,\"delta\":{\"content\":\" head null\"" + Tail + ",\"usage\":null}";
        yield return Head + "[{\"index\":0,\"delta\":{\"content\":\" spaced\"}, \"logprobs\": null, \"finish_reason\": null}], \"usage\": null}";
        yield return Head + "[{\"index\":0,\"delta\":{\"content\":\" trailing space\"" + Tail + ",\"usage\":null} ";
        yield return Head + "[{\"index\":0,\"delta\":{\"content\":\" usage object\"" + Tail + ",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";
        yield return "{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}";
    }

    private static byte[] Stream(IEnumerable<string> chunks, string lineEnd = "\n", bool done = true) =>
        Encoding.UTF8.GetBytes(string.Concat(chunks.Select(c => "data: " + c + lineEnd + lineEnd)) + (done ? "data: [DONE]" + lineEnd + lineEnd : string.Empty));

    private static OpenAIStreamReader Create(bool fast, bool injected) =>
        new(OpenAIOperation.ChatCompletions, 1 << 20, withholdInjectedUsage: injected) { FastPath = fast };

    /// <summary>Everything the reader gives: its outcome, answer text and (when it transforms) the app's bytes.</summary>
    private static string Run(OpenAIStreamReader reader, byte[] body, params int[] cuts) => Run(reader, body, keepText: false, cuts);

    private static string Run(OpenAIStreamReader reader, byte[] body, bool keepText, params int[] cuts)
    {
        var output = FeedThrough(reader, body, cuts);
        var result = Describe(reader) + "\n" + output;
        reader.Dispose();
        if (!keepText)
        {
            reader.ResetOutputText();
        }

        return result;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryChunk_FastPathGivesTheGeneralPathsResult(bool injected)
    {
        foreach (var chunk in Chunks())
        {
            var body = Stream([chunk]);
            Assert.True(Run(Create(fast: false, injected), body) == Run(Create(fast: true, injected), body), chunk);
        }
    }

    [Fact]
    public void UsualChunks_TakeTheFastPath()
    {
        foreach (var content in Contents)
        {
            var reader = Create(fast: true, injected: false);
            Run(reader, Stream([Head + "[{\"index\":0,\"delta\":{\"content\":" + content + Tail + ",\"usage\":null}"]));
            Assert.True(reader.FastPathChunks == 1, content);
        }

        var benchmark = Create(fast: true, injected: true);
        Run(benchmark, SseStreamPayloads.Stream(SseStreamFormat.OpenAIChatInjected, 100));
        Assert.Equal(97, benchmark.FastPathChunks);
    }

    [Fact]
    public void OtherChunks_AreLeftToTheGeneralPath()
    {
        string[] others =
        [
            Head + "[{\"index\":0,\"delta\":{\"content\":\"a\"" + Tail.Replace("}]", "}", StringComparison.Ordinal) + ",{\"index\":1,\"delta\":{\"content\":\"b\"" + Tail + ",\"usage\":null}",
            Head + "[{\"index\":0,\"delta\":{\"content\":\"last\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}",
            Head.Replace(",\"choices\":", ",\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7},\"choices\":", StringComparison.Ordinal) + "[{\"index\":0,\"delta\":{\"content\":\" x\"" + Tail + "}",
            Head + "[{\"index\":0,\"delta\":{\"content\":\"x\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}",
            Head + "[{\"index\":0,\"delta\":{\"content\":\"raw\"quote\"" + Tail + ",\"usage\":null}",
        ];
        foreach (var chunk in others)
        {
            var reader = Create(fast: true, injected: false);
            Run(reader, Stream([chunk]));
            Assert.True(reader.FastPathChunks == 0, chunk);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryChunk_FastAndGeneralPathsAgreeWithAFullParse(bool injected)
    {
        foreach (var chunk in Chunks().Where(c => !c.StartsWith("{\"error\"", StringComparison.Ordinal)))
        {
            var reference = FullParse(chunk);
            var body = Stream([chunk], done: false);
            foreach (var fast in new[] { false, true })
            {
                var reader = Create(fast, injected);
                Run(reader, body, keepText: true);
                Assert.True(reference.Text == reader.OutputText.GetText(out _), chunk);
                Assert.True(reference.Completed == reader.Completed, chunk);
                Assert.True(reference.Output == reader.Usage?.OutputTokenCount, chunk);
                Assert.True(reference.Input == reader.Usage?.InputTokenCount, chunk);
                Assert.Equal("gpt-4o-mini-2024-07-18", reader.ResponseModel);
                Assert.Equal("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", reader.ResponseId);
                reader.ResetOutputText();
            }
        }
    }

    [Theory]
    [InlineData(false, "\n")]
    [InlineData(true, "\n")]
    [InlineData(true, "\r\n")]
    public void TrickyStream_SplitAtEveryByte_SameAsTheGeneralPathWhole(bool injected, string lineEnd)
    {
        var body = Stream(Chunks(), lineEnd);
        var expected = Run(Create(fast: false, injected), body);
        Assert.Equal(expected, Run(Create(fast: true, injected), body));
        for (var cut = 1; cut < body.Length; cut++)
        {
            var actual = Run(Create(fast: true, injected), body, cut);
            Assert.True(expected == actual, $"split at {cut}");
        }
    }

    [Theory]
    [InlineData(SseStreamFormat.OpenAIChat)]
    [InlineData(SseStreamFormat.OpenAIChatInjected)]
    public void BenchmarkStream_SplitAtEveryByte_SameAsTheGeneralPathWhole(SseStreamFormat format)
    {
        var body = SseStreamPayloads.Stream(format, 12);
        var injected = format == SseStreamFormat.OpenAIChatInjected;
        var expected = Run(Create(fast: false, injected), body);
        Assert.Contains("out=9", expected, StringComparison.Ordinal);
        for (var cut = 1; cut < body.Length; cut++)
        {
            Assert.True(expected == Run(Create(fast: true, injected), body, cut), $"split at {cut}");
        }

        var random = new Random(16);
        for (var run = 0; run < 200; run++)
        {
            var cuts = Enumerable.Range(0, random.Next(2, 40)).Select(_ => random.Next(1, body.Length)).Distinct().Order().ToArray();
            Assert.True(expected == Run(Create(fast: true, injected), body, cuts), $"cuts [{string.Join(',', cuts)}]");
        }
    }

    /// <summary>What a chunk says, read with <see cref="JsonDocument"/>: every choice's content delta, then every tool call's
    /// arguments (the reader's order), whether a choice has a finish reason, and the usage object's counts.</summary>
    private static (string Text, bool Completed, long? Input, long? Output) FullParse(string chunk)
    {
        using var doc = JsonDocument.Parse(chunk);
        var root = doc.RootElement;
        var contents = new StringBuilder();
        var arguments = new StringBuilder();
        var completed = false;
        foreach (var choice in root.GetProperty("choices").EnumerateArray())
        {
            var delta = choice.GetProperty("delta");
            if (delta.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
            {
                contents.Append(c.GetString());
            }

            if (delta.TryGetProperty("tool_calls", out var calls))
            {
                foreach (var call in calls.EnumerateArray())
                {
                    arguments.Append(call.GetProperty("function").GetProperty("arguments").GetString());
                }
            }

            completed |= choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String;
        }

        long? input = null, output = null;
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            input = usage.GetProperty("prompt_tokens").GetInt64();
            output = usage.GetProperty("completion_tokens").GetInt64();
        }

        return (contents.Append(arguments).ToString(), completed, input, output);
    }
}
