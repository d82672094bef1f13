using System.Text;
using BenchmarkDotNet.Attributes;
using TokenMetrics.Providers.Anthropic;
using TokenMetrics.Providers.Bedrock;

namespace TokenMetrics.Benchmarks.Providers;

/// <summary>Usage extraction for the Anthropic family: non-streamed Messages and Converse bodies, a 200-event Messages stream and a
/// 200-event Bedrock ConverseStream (binary event stream), pushed in 4 KB reads; time and bytes per event.</summary>
[MemoryDiagnoser]
public class AnthropicBenchmarks
{
    public const int StreamEvents = 200;

    private static readonly byte[] MessageJson = Encoding.UTF8.GetBytes(
        "{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[{\"type\":\"text\",\"text\":\""
        + string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", 40))
        + "\"}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":1500,\"cache_read_input_tokens\":3000,\"cache_creation\":{\"ephemeral_5m_input_tokens\":1000,\"ephemeral_1h_input_tokens\":500},\"output_tokens\":420,\"service_tier\":\"standard\"}}");

    private static readonly byte[] ConverseJson = Encoding.UTF8.GetBytes(
        "{\"metrics\":{\"latencyMs\":1733},\"output\":{\"message\":{\"content\":[{\"text\":\""
        + string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", 40))
        + "\"}],\"role\":\"assistant\"}},\"stopReason\":\"end_turn\",\"usage\":{\"cacheReadInputTokens\":1800,\"cacheWriteInputTokens\":200,\"inputTokens\":14,\"outputTokens\":420,\"totalTokens\":434}}");

    private static readonly byte[] MessageStream = BuildAnthropicStream();

    private static readonly byte[] ConverseStream = BuildConverseStream();

    [Benchmark]
    public long? AnthropicJson_2KB()
    {
        using var reader = new AnthropicJsonReader(8 << 20);
        reader.Write(MessageJson);
        reader.Complete();
        reader.ResetOutputText();
        return reader.Usage?.InputTokenCount;
    }

    [Benchmark]
    public long? BedrockConverseJson_2KB()
    {
        using var reader = new BedrockConverseJsonReader(8 << 20, "req");
        reader.Write(ConverseJson);
        reader.Complete();
        return reader.Usage?.InputTokenCount;
    }

    [Benchmark(OperationsPerInvoke = StreamEvents)]
    public long? AnthropicStream_PerEvent()
    {
        using var reader = new AnthropicStreamReader(1 << 20);
        Push(reader, MessageStream);
        reader.Complete();
        var tokens = reader.Usage?.OutputTokenCount;
        reader.ResetOutputText();
        return tokens;
    }

    [Benchmark(OperationsPerInvoke = StreamEvents)]
    public long? BedrockConverseStream_PerEvent()
    {
        using var reader = new BedrockConverseStreamReader("req");
        Push(reader, ConverseStream);
        reader.Complete();
        var tokens = reader.Usage?.OutputTokenCount;
        reader.ResetOutputText();
        return tokens;
    }

    private static void Push(TokenUsageResponseReader reader, byte[] body)
    {
        for (var pos = 0; pos < body.Length; pos += 4096)
        {
            reader.Write(body.AsSpan(pos, Math.Min(4096, body.Length - pos)));
        }
    }

    /// <summary>message_start, content_block_start, 195 text deltas, content_block_stop, message_delta, message_stop: 200 events.</summary>
    private static byte[] BuildAnthropicStream()
    {
        var sb = new StringBuilder();
        sb.Append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":4000,\"cache_creation\":{\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":0},\"output_tokens\":1,\"service_tier\":\"standard\"}}}\n\n");
        sb.Append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
        for (var i = 0; i < StreamEvents - 5; i++)
        {
            sb.Append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" token").Append(i).Append("\"}}\n\n");
        }

        sb.Append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
        sb.Append("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":4000,\"output_tokens\":195}}\n\n");
        sb.Append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>messageStart, 196 contentBlockDelta, contentBlockStop, messageStop, metadata: 200 frames.</summary>
    private static byte[] BuildConverseStream()
    {
        using var output = new MemoryStream();
        output.Write(EventStreamWriter.Event("messageStart", "{\"p\":\"abcdefghijkl\",\"role\":\"assistant\"}"u8));
        for (var i = 0; i < StreamEvents - 4; i++)
        {
            output.Write(EventStreamWriter.Event("contentBlockDelta", Encoding.UTF8.GetBytes($"{{\"contentBlockIndex\":0,\"delta\":{{\"text\":\" token{i}\"}},\"p\":\"abcdefgh\"}}")));
        }

        output.Write(EventStreamWriter.Event("contentBlockStop", "{\"contentBlockIndex\":0,\"p\":\"abcdefghijklmnop\"}"u8));
        output.Write(EventStreamWriter.Event("messageStop", "{\"p\":\"abcdefghij\",\"stopReason\":\"end_turn\"}"u8));
        output.Write(EventStreamWriter.Event("metadata", "{\"metrics\":{\"latencyMs\":1203},\"p\":\"abcdef\",\"usage\":{\"cacheReadInputTokens\":4000,\"inputTokens\":25,\"outputTokens\":196,\"totalTokens\":221}}"u8));
        return output.ToArray();
    }
}
