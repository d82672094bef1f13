using System.Globalization;
using System.Text;

namespace TokenMetrics.Benchmarks.Http;

/// <summary>The vendor formats of the peer benchmark.</summary>
public enum PeerVendor
{
    /// <summary>OpenAI Chat Completions.</summary>
    OpenAI,

    /// <summary>Anthropic Messages.</summary>
    Anthropic,

    /// <summary>Gemini generateContent / streamGenerateContent (SSE).</summary>
    Gemini,
}

/// <summary>The response shapes of the peer benchmark.</summary>
public enum PeerShape
{
    /// <summary>A non-streamed JSON answer of about 300 bytes.</summary>
    Json300B,

    /// <summary>A non-streamed JSON answer of 64 KiB.</summary>
    Json64KB,

    /// <summary>A server-sent event stream of 10 events.</summary>
    Sse10,

    /// <summary>A server-sent event stream of 100 events.</summary>
    Sse100,

    /// <summary>A server-sent event stream of 1,000 events.</summary>
    Sse1000,
}

/// <summary>One call of the peer benchmark: where it goes, what it sends, what comes back, and the usage the vendor reports in it.</summary>
internal sealed record PeerCall(string Url, byte[] Request, byte[] Response, string MediaType, int Events, string Provider)
{
    /// <summary>The input tokens every payload reports: the benchmark checks the metered record says exactly this.</summary>
    public const long InputTokens = 12;

    /// <summary>Gets the output tokens the payload reports.</summary>
    public long OutputTokens { get; init; }
}

/// <summary>Payloads in the shapes the providers' tests use (tests/TokenMetrics.Providers.Tests fixtures, benchmarks/…/Providers):
/// OpenAI chat completions (streams with <c>include_usage</c>: a usage chunk, then <c>[DONE]</c>), Anthropic Messages (message_start
/// … message_stop), Gemini (every SSE chunk carries cumulative <c>usageMetadata</c>).</summary>
internal static class PeerPayloads
{
    private const string Prose = "The quick brown fox jumps over the lazy dog. ";

    public static PeerCall Create(PeerVendor vendor, PeerShape shape) => (vendor, shape) switch
    {
        (_, PeerShape.Json300B) => Json(vendor, 300),
        (_, PeerShape.Json64KB) => Json(vendor, 64 * 1024),
        (_, PeerShape.Sse10) => Sse(vendor, 10),
        (_, PeerShape.Sse100) => Sse(vendor, 100),
        (_, PeerShape.Sse1000) => Sse(vendor, 1000),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    private static PeerCall Json(PeerVendor vendor, int size)
    {
        // Grow the answer text until the body has the wanted size (to the byte: the envelope is fixed).
        var envelope = JsonBody(vendor, string.Empty).Length;
        var text = Text(size - envelope);
        var body = Encoding.UTF8.GetBytes(JsonBody(vendor, text));
        return vendor switch
        {
            PeerVendor.OpenAI => new PeerCall("http://api.openai.com/v1/chat/completions", OpenAIRequest(stream: false), body, "application/json", 0, "openai") { OutputTokens = 90 },
            PeerVendor.Anthropic => new PeerCall("http://api.anthropic.com/v1/messages", AnthropicRequest(stream: false), body, "application/json", 0, "anthropic") { OutputTokens = 90 },
            _ => new PeerCall("http://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent", GeminiRequest, body, "application/json", 0, "gemini") { OutputTokens = 90 },
        };
    }

    private static string JsonBody(PeerVendor vendor, string text) => vendor switch
    {
        PeerVendor.OpenAI =>
            "{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion\",\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\""
            + text + "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":90,\"total_tokens\":102}}",
        PeerVendor.Anthropic =>
            "{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[{\"type\":\"text\",\"text\":\""
            + text + "\"}],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":12,\"output_tokens\":90}}",
        _ =>
            "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"" + text + "\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],"
            + "\"usageMetadata\":{\"promptTokenCount\":12,\"candidatesTokenCount\":90,\"totalTokenCount\":102},\"modelVersion\":\"gemini-2.5-flash\"}",
    };

    private static PeerCall Sse(PeerVendor vendor, int events)
    {
        var sb = new StringBuilder();
        switch (vendor)
        {
            case PeerVendor.OpenAI:
            {
                // events - 2 content chunks, a finish chunk, the usage chunk; then [DONE].
                const string Head = "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":";
                for (var i = 0; i < events - 2; i++)
                {
                    sb.Append(Head).Append("[{\"index\":0,\"delta\":{\"content\":\" word").Append(i).Append("\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n");
                }

                sb.Append(Head).Append("[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n");
                sb.Append(Head).Append(CultureInfo.InvariantCulture, $"[],\"usage\":{{\"prompt_tokens\":12,\"completion_tokens\":{events - 2},\"total_tokens\":{events + 10}}}}}\n\n");
                sb.Append("data: [DONE]\n\n");
                return new PeerCall("http://api.openai.com/v1/chat/completions", OpenAIRequest(stream: true), Bytes(sb), "text/event-stream", events, "openai") { OutputTokens = events - 2 };
            }

            case PeerVendor.Anthropic:
            {
                // message_start, content_block_start, events - 5 text deltas, content_block_stop, message_delta, message_stop.
                sb.Append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n");
                sb.Append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
                for (var i = 0; i < events - 5; i++)
                {
                    sb.Append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" word").Append(i).Append("\"}}\n\n");
                }

                sb.Append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
                sb.Append(CultureInfo.InvariantCulture, $"event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\",\"stop_sequence\":null}},\"usage\":{{\"output_tokens\":{events - 5}}}}}\n\n");
                sb.Append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
                return new PeerCall("http://api.anthropic.com/v1/messages", AnthropicRequest(stream: true), Bytes(sb), "text/event-stream", events, "anthropic") { OutputTokens = events - 5 };
            }

            default:
            {
                // Every chunk carries the cumulative usage; the last one finishes.
                for (var i = 0; i < events; i++)
                {
                    sb.Append("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" word").Append(i).Append("\"}],\"role\":\"model\"}")
                        .Append(i == events - 1 ? ",\"finishReason\":\"STOP\"" : string.Empty).Append(",\"index\":0}],")
                        .Append(CultureInfo.InvariantCulture, $"\"usageMetadata\":{{\"promptTokenCount\":12,\"candidatesTokenCount\":{i + 1},\"totalTokenCount\":{13 + i}}},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"abc\"}}\r\n\r\n");
                }

                return new PeerCall("http://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", GeminiRequest, Bytes(sb), "text/event-stream", events, "gemini") { OutputTokens = events };
            }
        }
    }

    private static byte[] OpenAIRequest(bool stream) => Encoding.UTF8.GetBytes(stream
        ? "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}],\"stream\":true,\"stream_options\":{\"include_usage\":true}}"
        : "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}]}");

    private static byte[] AnthropicRequest(bool stream) => Encoding.UTF8.GetBytes(
        "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":1024,\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}]" + (stream ? ",\"stream\":true}" : "}"));

    private static readonly byte[] GeminiRequest = Encoding.UTF8.GetBytes("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Tell me a story\"}]}]}");

    private static string Text(int length)
    {
        var sb = new StringBuilder(length);
        while (sb.Length < length)
        {
            sb.Append(Prose, 0, Math.Min(Prose.Length, length - sb.Length));
        }

        return sb.ToString();
    }

    private static byte[] Bytes(StringBuilder sb) => Encoding.UTF8.GetBytes(sb.ToString());
}
