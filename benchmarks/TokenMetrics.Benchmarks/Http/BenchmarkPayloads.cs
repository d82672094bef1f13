using System.Net;
using System.Text;

namespace TokenMetrics.Benchmarks.Http;

/// <summary>OpenAI-shaped payloads: a ~2 KB chat completion and a 200-event chat stream.</summary>
internal static class BenchmarkPayloads
{
    public static readonly byte[] ChatJson = Encoding.UTF8.GetBytes(
        "{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion\",\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\""
        + string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", 38))
        + "\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":380,\"total_tokens\":1580,\"prompt_tokens_details\":{\"cached_tokens\":1024,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\"}");

    public const int StreamEvents = 200;

    /// <summary>200 events: 198 content chunks, a finish chunk, the usage chunk; then [DONE]. Every chunk has "usage":null (include_usage).</summary>
    public static readonly byte[] ChatStream = BuildStream();

    public static readonly byte[] StreamRequest = Encoding.UTF8.GetBytes("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}],\"stream\":true,\"stream_options\":{\"include_usage\":true}}");

    public static readonly byte[] JsonRequest = Encoding.UTF8.GetBytes("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}]}");

    private static byte[] BuildStream()
    {
        var sb = new StringBuilder();
        const string Head = "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":";
        for (var i = 0; i < StreamEvents - 2; i++)
        {
            sb.Append(Head).Append("[{\"index\":0,\"delta\":{\"content\":\" word").Append(i).Append("\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n");
        }

        sb.Append(Head).Append("[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n");
        sb.Append(Head).Append("[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":198,\"total_tokens\":210,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n");
        sb.Append("data: [DONE]\n\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}

/// <summary>A primary handler that never touches the network (the Http.Resilience benchmarks' NoRemoteCallHandler).</summary>
internal sealed class NoRemoteCallHandler(byte[] body, string mediaType) : HttpMessageHandler
{
    private readonly System.Net.Http.Headers.MediaTypeHeaderValue _type = new(mediaType);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = _type;
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
    }
}
