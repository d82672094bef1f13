using System.Text;
using System.Text.Json;

namespace TokenMetrics.Tests.TestHelpers;

/// <summary>OpenAI wire formats, shaped exactly like the real API's (field order, "usage":null with include_usage, the usage-only chunk).</summary>
public static class OpenAIFixtures
{
    public const string Model = "gpt-4o-mini";
    public const string ResponseModel = "gpt-4o-mini-2024-07-18";
    public static readonly string[] Words = ["Hello", "!", " How", " can", " I", " help", " you", " today", "?"];

    public static string ChatRequest(bool stream, string? streamOptions = null, string content = "Say hello") =>
        "{\"model\":\"" + Model + "\",\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\"" + content + "\"}]"
        + (stream ? ",\"stream\":true" : string.Empty)
        + (streamOptions is null ? string.Empty : ",\"stream_options\":" + streamOptions)
        + "}";

    public static string ChatCompletionJson(int prompt = 19, int completion = 9, int cached = 0, int reasoning = 0) =>
        "{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion\",\"created\":1741570283,\"model\":\"" + ResponseModel + "\","
        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello! How can I help you today?\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion + ",\"total_tokens\":" + (prompt + completion)
        + ",\"prompt_tokens_details\":{\"cached_tokens\":" + cached + ",\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":" + reasoning
        + ",\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\"}";

    /// <summary>A chat stream as OpenAI sends it; with <paramref name="includeUsage"/>, every chunk has "usage":null and a usage-only chunk precedes [DONE].</summary>
    public static byte[] ChatStream(bool includeUsage, int prompt = 19, int cached = 0, int reasoning = 0, string lineEnd = "\n", bool done = true, int? cutAfterChunks = null)
    {
        var sb = new StringBuilder();
        var chunks = new List<string>();
        string Chunk(string choices) =>
            "{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"" + ResponseModel
            + "\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":" + choices + (includeUsage ? ",\"usage\":null" : string.Empty) + "}";
        chunks.Add(Chunk("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]"));
        foreach (var w in Words)
        {
            chunks.Add(Chunk("[{\"index\":0,\"delta\":{\"content\":" + JsonSerializer.Serialize(w) + "},\"logprobs\":null,\"finish_reason\":null}]"));
        }

        chunks.Add(Chunk("[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]"));
        if (includeUsage)
        {
            chunks.Add("{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"" + ResponseModel
                + "\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + Words.Length
                + ",\"total_tokens\":" + (prompt + Words.Length) + ",\"prompt_tokens_details\":{\"cached_tokens\":" + cached + ",\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":" + reasoning
                + ",\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}");
        }

        if (cutAfterChunks is { } cut)
        {
            chunks = chunks.Take(cut).ToList();
            done = false;
        }

        foreach (var c in chunks)
        {
            sb.Append("data: ").Append(c).Append(lineEnd).Append(lineEnd);
        }

        if (done)
        {
            sb.Append("data: [DONE]").Append(lineEnd).Append(lineEnd);
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static byte[] ResponsesStream(int input = 37, int output = 11, int cached = 5, int reasoning = 3)
    {
        var sb = new StringBuilder();
        void Event(string type, string json) => sb.Append("event: ").Append(type).Append('\n').Append("data: ").Append(json).Append("\n\n");
        Event("response.created", "{\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_67c9fdcecf488190bdd9a0409de3a1ec\",\"object\":\"response\",\"created_at\":1741290958,\"status\":\"in_progress\",\"model\":\"gpt-4.1-2025-04-14\",\"output\":[],\"usage\":null}}");
        Event("response.output_item.added", "{\"type\":\"response.output_item.added\",\"sequence_number\":1,\"output_index\":0,\"item\":{\"id\":\"msg_67c9fdcf37fc8190ba82116e33fb28c5\",\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}}");
        foreach (var w in Words)
        {
            Event("response.output_text.delta", "{\"type\":\"response.output_text.delta\",\"sequence_number\":2,\"item_id\":\"msg_67c9fdcf37fc8190ba82116e33fb28c5\",\"output_index\":0,\"content_index\":0,\"delta\":" + JsonSerializer.Serialize(w) + "}");
        }

        Event("response.completed", "{\"type\":\"response.completed\",\"sequence_number\":20,\"response\":{\"id\":\"resp_67c9fdcecf488190bdd9a0409de3a1ec\",\"object\":\"response\",\"created_at\":1741290958,\"status\":\"completed\",\"model\":\"gpt-4.1-2025-04-14\",\"output\":[{\"id\":\"msg_67c9fdcf37fc8190ba82116e33fb28c5\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hello! How can I help you today?\",\"annotations\":[]}]}],\"usage\":{\"input_tokens\":"
            + input + ",\"input_tokens_details\":{\"cached_tokens\":" + cached + "},\"output_tokens\":" + output + ",\"output_tokens_details\":{\"reasoning_tokens\":" + reasoning + "},\"total_tokens\":" + (input + output) + "}}}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static string EmbeddingsJson(int prompt = 8) =>
        "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":[0.0023064255,-0.009327292,-0.0028842222]}],\"model\":\"text-embedding-3-small\",\"usage\":{\"prompt_tokens\":" + prompt + ",\"total_tokens\":" + prompt + "}}";

    /// <summary>Answers like OpenAI: the stream's shape depends on whether the request asked for usage.</summary>
    public static StubHttpHandler ChatServer(int[]? chunkSizes = null, Func<byte[], byte[]>? transform = null) =>
        StubHttpHandler.Returning((request, body) =>
        {
            var json = JsonDocument.Parse(body!).RootElement;
            var stream = json.TryGetProperty("stream", out var s) && s.GetBoolean();
            if (!stream)
            {
                return StubHttpHandler.Json(ChatCompletionJson());
            }

            var includeUsage = json.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object
                && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
            var bytes = ChatStream(includeUsage);
            return StubHttpHandler.Sse(transform?.Invoke(bytes) ?? bytes, chunkSizes);
        });
}
