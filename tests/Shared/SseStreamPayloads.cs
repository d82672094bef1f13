// Shared by the test projects (linked, not copied) and by the benchmarks (SSE per-event cost): see their .csproj files.
using System.Text;

namespace TokenMetrics.Tests.Shared;

/// <summary>The stream formats metered per event.</summary>
public enum SseStreamFormat
{
    /// <summary>OpenAI Chat Completions, the app asked for usage (<c>include_usage</c>): observed, not transformed.</summary>
    OpenAIChat,

    /// <summary>OpenAI Chat Completions, <c>include_usage</c> injected by TokenMetrics: every chunk's <c>"usage":null</c> removed.</summary>
    OpenAIChatInjected,

    /// <summary>OpenAI Responses API (<c>event:</c> lines, typed events).</summary>
    OpenAIResponses,

    /// <summary>Anthropic Messages.</summary>
    Anthropic,

    /// <summary>Gemini <c>streamGenerateContent?alt=sse</c>.</summary>
    Gemini,
}

/// <summary>Realistic vendor streams of any number of events (content deltas between each vendor's opening and closing events),
/// with the request that asks for them.</summary>
public static class SseStreamPayloads
{
    /// <summary>The URL the request goes to.</summary>
    public static string Url(SseStreamFormat format) => format switch
    {
        SseStreamFormat.OpenAIChat or SseStreamFormat.OpenAIChatInjected => "https://api.openai.com/v1/chat/completions",
        SseStreamFormat.OpenAIResponses => "https://api.openai.com/v1/responses",
        SseStreamFormat.Anthropic => "https://api.anthropic.com/v1/messages",
        _ => "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    };

    /// <summary>The request body.</summary>
    public static byte[] Request(SseStreamFormat format) => Encoding.UTF8.GetBytes(format switch
    {
        SseStreamFormat.OpenAIChat => "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}],\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
        SseStreamFormat.OpenAIChatInjected => "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}],\"stream\":true}",
        SseStreamFormat.OpenAIResponses => "{\"model\":\"gpt-4.1-mini\",\"input\":\"Tell me a story\",\"stream\":true}",
        SseStreamFormat.Anthropic => "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}],\"stream\":true}",
        _ => "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Tell me a story\"}]}]}",
    });

    /// <summary>A stream of exactly <paramref name="events"/> SSE events (at least 8), as the vendor sends it.</summary>
    public static byte[] Stream(SseStreamFormat format, int events)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(events, 8);
        var sb = new StringBuilder(events * 320);
        switch (format)
        {
            case SseStreamFormat.OpenAIChat:
            case SseStreamFormat.OpenAIChatInjected:
                OpenAIChat(sb, events);
                break;
            case SseStreamFormat.OpenAIResponses:
                OpenAIResponses(sb, events);
                break;
            case SseStreamFormat.Anthropic:
                Anthropic(sb, events);
                break;
            default:
                Gemini(sb, events);
                break;
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Content chunks, a finish chunk, the usage-only chunk, <c>[DONE]</c>; every chunk has <c>"usage":null</c>
    /// (OpenAI adds it with include_usage, asked by the app or injected).</summary>
    private static void OpenAIChat(StringBuilder sb, int events)
    {
        const string Head = "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":";
        for (var i = 0; i < events - 3; i++)
        {
            sb.Append(Head).Append("[{\"index\":0,\"delta\":{\"content\":\" word").Append(i).Append("\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n");
        }

        sb.Append(Head).Append("[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n");
        sb.Append(Head).Append("[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":").Append(events - 3).Append(",\"total_tokens\":").Append(events + 9).Append(",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n");
        sb.Append("data: [DONE]\n\n");
    }

    /// <summary>response.created, in_progress, output_item.added, content_part.added, text deltas, output_text.done,
    /// content_part.done, output_item.done, response.completed (with usage).</summary>
    private static void OpenAIResponses(StringBuilder sb, int events)
    {
        const string Response = "{\"id\":\"resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b\",\"object\":\"response\",\"created_at\":1741476542,\"status\":\"in_progress\",\"model\":\"gpt-4.1-mini-2025-04-14\",\"output\":[],\"usage\":null}";
        const string Item = "\"item_id\":\"msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b\",\"output_index\":0,\"content_index\":0";
        var seq = 0;
        void Event(string type, string body) => sb.Append("event: ").Append(type).Append("\ndata: {\"type\":\"").Append(type).Append("\",\"sequence_number\":").Append(seq++).Append(',').Append(body).Append("}\n\n");
        Event("response.created", "\"response\":" + Response);
        Event("response.in_progress", "\"response\":" + Response);
        Event("response.output_item.added", "\"output_index\":0,\"item\":{\"id\":\"msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b\",\"type\":\"message\",\"status\":\"in_progress\",\"content\":[],\"role\":\"assistant\"}");
        Event("response.content_part.added", Item + ",\"part\":{\"type\":\"output_text\",\"annotations\":[],\"text\":\"\"}");
        for (var i = 0; i < events - 8; i++)
        {
            Event("response.output_text.delta", Item + ",\"delta\":\" word" + i + "\",\"logprobs\":[]");
        }

        Event("response.output_text.done", Item + ",\"text\":\"(the whole text)\",\"logprobs\":[]");
        Event("response.content_part.done", Item + ",\"part\":{\"type\":\"output_text\",\"annotations\":[],\"text\":\"(the whole text)\"}");
        Event("response.output_item.done", "\"output_index\":0,\"item\":{\"id\":\"msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b\",\"type\":\"message\",\"status\":\"completed\",\"content\":[],\"role\":\"assistant\"}");
        Event("response.completed", "\"response\":{\"id\":\"resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b\",\"object\":\"response\",\"created_at\":1741476542,\"status\":\"completed\",\"model\":\"gpt-4.1-mini-2025-04-14\",\"output\":[],\"usage\":{\"input_tokens\":12,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":" + (events - 8) + ",\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":" + (events + 4) + "}}");
    }

    /// <summary>message_start, content_block_start, text deltas with a ping, content_block_stop, message_delta, message_stop.</summary>
    private static void Anthropic(StringBuilder sb, int events)
    {
        sb.Append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":4000,\"cache_creation\":{\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":0},\"output_tokens\":1,\"service_tier\":\"standard\"}}}\n\n");
        sb.Append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
        sb.Append("event: ping\ndata: {\"type\": \"ping\"}\n\n");
        for (var i = 0; i < events - 6; i++)
        {
            sb.Append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" token").Append(i).Append("\"}}\n\n");
        }

        sb.Append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
        sb.Append("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":4000,\"output_tokens\":").Append(events - 6).Append("}}\n\n");
        sb.Append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    }

    /// <summary>Chunks with cumulative usageMetadata (the running candidates count), the last with finishReason.</summary>
    private static void Gemini(StringBuilder sb, int events)
    {
        for (var i = 0; i < events; i++)
        {
            sb.Append("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" word").Append(i).Append("\"}],\"role\":\"model\"}")
                .Append(i == events - 1 ? ",\"finishReason\":\"STOP\"" : string.Empty)
                .Append(",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":120,\"candidatesTokenCount\":").Append(i + 1)
                .Append(",\"totalTokenCount\":").Append(121 + i)
                .Append(",\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":120}]},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"mRWfaJ6yIs6ZkdUP5e6EmQ4\"}\r\n\r\n");
        }
    }
}
