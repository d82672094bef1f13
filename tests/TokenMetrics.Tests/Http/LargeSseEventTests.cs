using System.Buffers;
using System.Text;
using System.Text.Json;
using TokenMetrics.Providers.OpenAI;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Http;

/// <summary>With <c>include_usage</c> injected, the app reads the bytes it would have read without TokenMetrics, at any event size.</summary>
public class LargeSseEventTests
{
    private const string ChunkHead = "{\"id\":\"chatcmpl-big\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":";

    /// <summary>The stream OpenAI sends: with include_usage every chunk ends with "usage":null and a usage-only chunk precedes [DONE].</summary>
    private static byte[] BigStream(bool includeUsage, string hugeContent)
    {
        var usageNull = includeUsage ? ",\"usage\":null" : string.Empty;
        var sb = new StringBuilder();
        sb.Append("data: ").Append(ChunkHead).Append("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]").Append(usageNull).Append("}\n\n");
        sb.Append("data: ").Append(ChunkHead).Append("[{\"index\":0,\"delta\":{\"content\":\"").Append(hugeContent).Append("\"},\"finish_reason\":null}]").Append(usageNull).Append("}\n\n");
        sb.Append("data: ").Append(ChunkHead).Append("[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]").Append(usageNull).Append("}\n\n");
        if (includeUsage)
        {
            sb.Append("data: ").Append(ChunkHead).Append("[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5000000,\"total_tokens\":5000012}}\n\n");
        }

        sb.Append("data: [DONE]\n\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    [Fact]
    public async Task TwentyMegabyteEvent_WithInjectedUsage_AppReadsTheBytesItWouldReadWithoutTokenMetrics()
    {
        // 20 MB of content with escapes in it, one SSE event: far past MaxSseEventBytes (1 MiB) + 4 KiB.
        const string piece = "abc \\\"usage\\\":null, \\\\ def ";
        var huge = new StringBuilder(21 << 20).Insert(0, piece, (20 << 20) / piece.Length + 1).ToString();
        var with = BigStream(includeUsage: true, huge);
        var without = BigStream(includeUsage: false, huge);
        Assert.True(with.Length > 20_000_000);
        var injected = false;
        var server = StubHttpHandler.Returning((_, body) =>
        {
            var json = JsonDocument.Parse(body!).RootElement;
            injected = json.TryGetProperty("stream_options", out var so) && so.GetProperty("include_usage").GetBoolean();
            return StubHttpHandler.Sse(injected ? with : without, [65536, 4093, 1]);
        });
        await using var t = new TestRecorder();
        using var client = t.CreateClient(server);

        using var response = await client.PostAsync("chat/completions", new StringContent(OpenAIFixtures.ChatRequest(stream: true), Encoding.UTF8, "application/json"));
        var read = await TokenMetricsHandlerTests.ReadAllInOddReadsAsync(response, 81920);

        Assert.True(injected);
        Assert.Equal(without.Length, read.Length);
        Assert.True(without.AsSpan().SequenceEqual(read));
        var record = Assert.Single(await t.RecordsAsync(1));
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(5000000, record.Usage.OutputTokenCount);
        Assert.Equal(TokenUsageStatus.Ok, record.Status);
    }

    public static TheoryData<string> Events() => new()
    {
        "data: {\"id\":\"a\",\"choices\":[{\"delta\":{\"content\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}],\"usage\":null}\n\n",
        "data: {\"usage\":null,\"id\":\"b\",\"choices\":[{\"delta\":{\"content\":\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\"}}]}\n\n",
        "data: {\"usage\" : null , \"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}}]}\r\n\r\n",
        "event: chunk\r\ndata:{ \"id\":\"d\" , \"choices\":[{\"delta\":{\"content\":\"q,\\\"usage\\\":null\",\"usage\":null}}] ,  \"usage\":null }\r\r",
        ": keep-alive comment long enough to matter .........................................\ndata: {\"id\":\"e\",\"usages\":null,\"usage\":{\"prompt_tokens\":1},\"x\":\"wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww\"}\n\n",
        "data: {\"id\":\"f\",\"usa\":null,\"choices\":[],\"model\":\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\",\"usage\":null,\"usage\":null}\n\n",
        "data: [\"usage\",null,\"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu\"]\n\n",
        "data: {\"id\":\"g\",\"n\":12     ,\"usage\":null,\"tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\":1}\n\n",
    };

    /// <summary>Events past the limit (64 bytes here) stream through the cutter; split at every read size, the app's bytes
    /// equal what the whole-event path (<see cref="JsonText.TryRemoveTopLevelNullProperty"/>) writes.</summary>
    [Theory]
    [MemberData(nameof(Events))]
    public void OversizedEvent_AnySplit_CutEqualsTheWholeEventCut(string sseEvent)
    {
        var input = Encoding.UTF8.GetBytes(sseEvent + "data: [DONE]\n\n");
        var expected = Expected(sseEvent) + "data: [DONE]\n\n";
        for (var size = 1; size <= input.Length; size++)
        {
            var reader = new OpenAIStreamReader(OpenAIOperation.ChatCompletions, 64, withholdInjectedUsage: true);
            var output = new ArrayBufferWriter<byte>();
            for (var at = 0; at < input.Length; at += size)
            {
                reader.Transform(input.AsSpan(at, Math.Min(size, input.Length - at)), output, final: false);
            }

            reader.Transform(default, output, final: true);
            reader.Dispose();
            Assert.Equal(expected, Encoding.UTF8.GetString(output.WrittenSpan));
        }
    }

    private static string Expected(string sseEvent)
    {
        // The whole-event cut: on the single data line's value, as the in-memory path does it.
        var lines = sseEvent.Split('\n');
        var dataLine = Array.FindIndex(lines, l => l.StartsWith("data:", StringComparison.Ordinal));
        var line = lines[dataLine].Split('\r')[0];
        var prefix = line.StartsWith("data: ", StringComparison.Ordinal) ? "data: " : "data:";
        var data = Encoding.UTF8.GetBytes(line[prefix.Length..]);
        var output = new ArrayBufferWriter<byte>();
        var cut = JsonText.TryRemoveTopLevelNullProperty(data, "usage"u8, output) ? Encoding.UTF8.GetString(output.WrittenSpan) : line[prefix.Length..];
        return sseEvent.Replace(line, prefix + cut, StringComparison.Ordinal);
    }
}
