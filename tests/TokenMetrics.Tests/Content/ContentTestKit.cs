using System.Text;
using TokenMetrics.Internal;

namespace TokenMetrics.Tests.Content;

/// <summary>Builds captures without a whole pipeline, and the stream fixtures the content tests share.</summary>
internal static class ContentTestKit
{
    public static TokenUsageRecorder NewRecorder(Action<TokenMetricsContentOptions>? configure = null)
    {
        var options = new TokenMetricsOptions { MeterName = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N"), CaptureContent = true };
        configure?.Invoke(options.Content);
        return new TokenUsageRecorder(options, []);
    }

    public static ContentCapture NewCapture(TokenUsageRecorder recorder) => new(recorder.ContentPolicy);

    public static byte[] Sse(params string[] dataLines)
    {
        var sb = new StringBuilder();
        foreach (var line in dataLines)
        {
            sb.Append("data: ").Append(line).Append("\n\n");
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Higress' TestStreamingToolCalls (a): one call over 4 chunks, arguments <c>{"locat</c> / <c>ion": "Bei</c> / <c>jing"}</c>.</summary>
    public static readonly string[] FourFragmentToolCall =
    [
        """{"id":"chatcmpl-1","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_abc123","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}""",
        """{"id":"chatcmpl-1","model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"locat"}}]},"finish_reason":null}]}""",
        """{"id":"chatcmpl-1","model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ion\": \"Bei"}}]},"finish_reason":null}]}""",
        """{"id":"chatcmpl-1","model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"jing\"}"}}]},"finish_reason":null}]}""",
        """{"id":"chatcmpl-1","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":15,"total_tokens":35}}""",
        "[DONE]",
    ];

    public const string WeatherRequest = """{"model":"gpt-4o","stream":true,"messages":[{"role":"system","content":"You are helpful."},{"role":"user","content":"What is the weather in Beijing?"}],"tools":[{"type":"function","function":{"name":"get_weather"}}]}""";
}
