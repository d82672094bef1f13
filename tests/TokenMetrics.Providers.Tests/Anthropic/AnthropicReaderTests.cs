using System.Text;
using TokenMetrics.Providers.Anthropic;
using Xunit.Abstractions;
using static TokenMetrics.Providers.Tests.Anthropic.ReaderHarness;

namespace TokenMetrics.Providers.Tests.Anthropic;

public class AnthropicReaderTests(ITestOutputHelper output)
{
    private static AnthropicStreamReader Stream() => new(1 << 20);

    private static TokenUsageResponseReader Read(string name, TokenUsageResponseReader reader) => Feed(reader, Bytes("anthropic", name), []);

    [Fact]
    public void JsonBody_CacheTokensAreNormalisedIntoInput_RawCountsKept()
    {
        var reader = Read("message-cache.json", new AnthropicJsonReader(1 << 20));

        var usage = reader.Usage!;
        Assert.Equal(12 + 1500 + 3000, usage.InputTokenCount);
        Assert.Equal(3000, usage.CachedInputTokenCount);
        Assert.Equal(1500, usage.CacheWriteInputTokenCount);
        Assert.Equal(10, usage.OutputTokenCount);
        Assert.Equal(4522, usage.TotalTokenCount);
        Assert.Equal(12, usage.InputTokenDetails!["input_tokens"]);
        Assert.Equal(1000, usage.InputTokenDetails["ephemeral_5m_input_tokens"]);
        Assert.Equal(500, usage.InputTokenDetails["ephemeral_1h_input_tokens"]);
        Assert.Equal(2, usage.OutputTokenDetails!["server_tool_use.web_search_requests"]);
        Assert.Equal("claude-sonnet-4-5-20250929", reader.ResponseModel);
        Assert.Equal("msg_01XFDUDYJgAACzvnptvVoYEL", reader.ResponseId);
        Assert.True(reader.Completed);
    }

    [Fact]
    public void JsonBody_ToolUseAndThinking_UsageAndStopReason()
    {
        var reader = (AnthropicJsonReader)Read("message-tool-use.json", new AnthropicJsonReader(1 << 20));

        Assert.Equal(472, reader.Usage!.InputTokenCount);
        Assert.Equal(91, reader.Usage.OutputTokenCount);
        Assert.Null(reader.Usage.CachedInputTokenCount);
        Assert.Equal("tool_use", reader.StopReason);
        Assert.False(reader.HasOutputText); // text is kept only when usage is missing
    }

    [Fact]
    public void JsonErrorBody_SetsTheErrorType_AndNoUsage()
    {
        var reader = Read("error-overloaded.json", new AnthropicJsonReader(1 << 20));

        Assert.Equal("overloaded_error", reader.ErrorType);
        Assert.Null(reader.Usage);
    }

    [Fact]
    public void JsonBody_CutInHalf_IsNotCompleted_AndKeepsTheTextForEstimates()
    {
        var body = Bytes("anthropic", "message-tool-use.json");
        var reader = Feed(new AnthropicJsonReader(1 << 20), body[..(body.Length / 2)], []);

        Assert.False(reader.Completed);
        Assert.Null(reader.Usage);
    }

    [Fact]
    public void JsonBody_LargerThanTheLimit_StillFindsTheUsageInTheTail()
    {
        var padding = new string('x', 200_000);
        var body = Encoding.UTF8.GetBytes("{\"id\":\"msg_big\",\"type\":\"message\",\"model\":\"claude\",\"content\":[{\"type\":\"text\",\"text\":\"" + padding + "\"}],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":7,\"cache_read_input_tokens\":3,\"output_tokens\":50000}}");
        var reader = Feed(new AnthropicJsonReader(64 * 1024), body, Enumerable.Range(1, 40).Select(i => i * 5000));

        Assert.Equal(10, reader.Usage!.InputTokenCount);
        Assert.Equal(50000, reader.Usage.OutputTokenCount);
        Assert.True(reader.Completed);
    }

    [Fact]
    public void Stream_Text_InputFromMessageStart_OutputFromMessageDelta()
    {
        var reader = Read("stream-text.sse", Stream());

        Assert.Equal(25, reader.Usage!.InputTokenCount);
        Assert.Equal(15, reader.Usage.OutputTokenCount);
        Assert.Equal(40, reader.Usage.TotalTokenCount);
        Assert.True(reader.Completed);
        Assert.Null(reader.ErrorType);
        Assert.Equal("Hello!", reader.OutputText.GetText(out _));
        Assert.Equal("end_turn", ((AnthropicStreamReader)reader).StopReason);
    }

    [Fact]
    public void Stream_CacheFieldsFromMessageStart_PersistThroughCumulativeDeltas()
    {
        var reader = Read("stream-cache-cumulative.sse", Stream());

        // message_start: input 5, write 2048, read 40960; two message_delta events: output 12 then 31 (cumulative, not 43).
        Assert.Equal(5 + 2048 + 40960, reader.Usage!.InputTokenCount);
        Assert.Equal(40960, reader.Usage.CachedInputTokenCount);
        Assert.Equal(2048, reader.Usage.CacheWriteInputTokenCount);
        Assert.Equal(31, reader.Usage.OutputTokenCount);
        Assert.Equal(2048, reader.Usage.InputTokenDetails!["ephemeral_1h_input_tokens"]);
        Assert.Contains("日本語のテキスト 🎉", reader.OutputText.GetText(out _), StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_ToolUse_MessageDeltaRepeatingInputFields_IsNotDoubleCounted()
    {
        var reader = Read("stream-tool-use.sse", Stream());

        Assert.Equal(849, reader.Usage!.InputTokenCount);
        Assert.Equal(47, reader.Usage.OutputTokenCount);
        Assert.Equal(0, reader.Usage.CachedInputTokenCount);
        Assert.Contains("San Francisco", reader.OutputText.GetText(out _), StringComparison.Ordinal);
        Assert.Equal("tool_use", ((AnthropicStreamReader)reader).StopReason);
    }

    [Fact]
    public void Stream_Thinking_TextKeptForEstimates_ReasoningNotSeparated()
    {
        var reader = Read("stream-thinking.sse", Stream());

        Assert.Equal(85, reader.Usage!.InputTokenCount);
        Assert.Equal(287, reader.Usage.OutputTokenCount);
        Assert.Null(reader.Usage.ReasoningTokenCount); // Anthropic counts thinking inside output_tokens and does not split it out
        Assert.Contains("453 = 400 + 50 + 3", reader.OutputText.GetText(out _), StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_ErrorEvent_SetsTheErrorType_AndKeepsTheInputAlreadyReported()
    {
        var reader = Read("stream-error.sse", Stream());

        Assert.Equal("overloaded_error", reader.ErrorType);
        Assert.Equal(40, reader.Usage!.InputTokenCount);
        Assert.False(reader.Completed);
    }

    [Fact]
    public void Stream_CutBeforeMessageStop_IsNotCompleted()
    {
        var reader = Read("stream-cut.sse", Stream());

        Assert.False(reader.Completed);
        Assert.Equal(25, reader.Usage!.InputTokenCount);
        Assert.Equal(1, reader.Usage.OutputTokenCount);
    }

    [Theory]
    [InlineData("stream-text.sse")]
    [InlineData("stream-cache-cumulative.sse")]
    [InlineData("stream-tool-use.sse")]
    [InlineData("stream-thinking.sse")]
    [InlineData("stream-error.sse")]
    [InlineData("stream-cut.sse")]
    public void Stream_EverySplitPoint_AndRandomSplits_GiveIdenticalResults(string name)
    {
        var seed = Environment.TickCount;
        output.WriteLine($"{name}: seed {seed}");
        AssertSplitInvariant(Stream, Bytes("anthropic", name), seed);
    }

    [Theory]
    [InlineData("message-cache.json")]
    [InlineData("message-tool-use.json")]
    [InlineData("error-overloaded.json")]
    public void Json_EverySplitPoint_GivesIdenticalResults(string name)
    {
        var seed = Environment.TickCount;
        output.WriteLine($"{name}: seed {seed}");
        AssertSplitInvariant(() => new AnthropicJsonReader(1 << 20), Bytes("anthropic", name), seed, randomRuns: 100);
    }

    /// <summary>FM-04: message_delta usage is cumulative. Random streams with several deltas; the reported output must be the
    /// last cumulative value, and input/cache from message_start must survive deltas that do not repeat them. A reader that
    /// summed the deltas would report the sum, which the generator makes different from the last value.</summary>
    [Fact]
    public void MergeRule_CumulativeDeltas_LatestPerField_NeverSummed()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        for (var run = 0; run < 200; run++)
        {
            long input = random.Next(1, 5000), cacheRead = random.Next(0, 50000), cacheWrite = random.Next(0, 5000);
            var sb = new StringBuilder();
            sb.Append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_p\",\"model\":\"claude\",\"usage\":{")
              .Append($"\"input_tokens\":{input},\"cache_creation_input_tokens\":{cacheWrite},\"cache_read_input_tokens\":{cacheRead},\"output_tokens\":1}}}}}}\n\n");
            long cumulative = 1, sum = 1;
            var deltas = random.Next(2, 8);
            for (var d = 0; d < deltas; d++)
            {
                cumulative += random.Next(1, 100);
                sum += cumulative;
                var repeat = random.Next(2) == 0 ? $"\"input_tokens\":{input},\"cache_read_input_tokens\":{cacheRead}," : string.Empty;
                sb.Append($"event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":null}},\"usage\":{{{repeat}\"output_tokens\":{cumulative}}}}}\n\n");
            }

            sb.Append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
            var body = Encoding.UTF8.GetBytes(sb.ToString());
            var cuts = Enumerable.Range(0, random.Next(0, 10)).Select(_ => random.Next(1, body.Length)).Distinct().ToArray();
            var usage = Feed(Stream(), body, cuts).Usage!;

            Assert.NotEqual(sum, cumulative);
            Assert.Equal(cumulative, usage.OutputTokenCount);
            Assert.Equal(input + cacheRead + cacheWrite, usage.InputTokenCount);
            Assert.Equal(cacheRead, usage.CachedInputTokenCount);
            Assert.Equal(cacheWrite, usage.CacheWriteInputTokenCount);
        }
    }

    [Fact]
    public void MalformedEvents_AreSkipped_AndNeverThrow()
    {
        var body = Encoding.UTF8.GetBytes("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3,\n\nevent: message_delta\ndata: not json\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":4}}\n\nevent: message_stop\ndata: {}\n\n");
        var reader = Feed(Stream(), body, [7, 50]);

        Assert.Equal(4, reader.Usage!.OutputTokenCount);
        Assert.True(reader.Completed);
    }
}
