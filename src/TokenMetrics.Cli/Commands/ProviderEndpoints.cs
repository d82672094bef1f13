using System.Collections.Generic;
using System.Text;

namespace TokenMetrics.Cli.Commands;

/// <summary>For each provider, the kind of endpoint its answers come from, so the right protocol reads a captured body.</summary>
internal static class ProviderEndpoints
{
    private static readonly Dictionary<string, Func<string?, BodyFormat, string>> Urls = new(StringComparer.OrdinalIgnoreCase)
    {
        ["openai"] = (_, _) => "https://api.openai.com/v1/chat/completions",
        ["openai.responses"] = (_, _) => "https://api.openai.com/v1/responses",
        ["azure.ai.openai"] = (m, _) => $"https://example.openai.azure.com/openai/deployments/{m ?? "deployment"}/chat/completions?api-version=2024-10-21",
        ["anthropic"] = (_, _) => "https://api.anthropic.com/v1/messages",
        ["gcp.gemini"] = (m, f) => $"https://generativelanguage.googleapis.com/v1beta/models/{m ?? "gemini-2.5-flash"}:" + (f.IsStream ? "streamGenerateContent" + (f == BodyFormat.EventStream ? "?alt=sse" : string.Empty) : "generateContent"),
        ["gcp.vertex_ai"] = (m, f) => $"https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/{m ?? "gemini-2.5-flash"}:" + (f.IsStream ? "streamGenerateContent" + (f == BodyFormat.EventStream ? "?alt=sse" : string.Empty) : "generateContent"),
        ["aws.bedrock"] = (m, f) => $"https://bedrock-runtime.us-east-1.amazonaws.com/model/{Uri.EscapeDataString(m ?? "anthropic.claude-3-5-sonnet-20240620-v1:0")}/" + (f.IsStream ? "converse-stream" : "converse"),
        ["dashscope"] = (_, _) => "https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation",
        ["ollama"] = (_, _) => "http://localhost:11434/api/chat",
        ["cohere"] = (_, _) => "https://api.cohere.com/v2/chat",
        ["deepseek"] = (_, _) => "https://api.deepseek.com/chat/completions",
        ["mistral_ai"] = (_, _) => "https://api.mistral.ai/v1/chat/completions",
        ["moonshot_ai"] = (_, _) => "https://api.moonshot.ai/v1/chat/completions",
    };

    public static IEnumerable<string> Names => Urls.Keys;

    public static bool IsKnown(string name) => Urls.ContainsKey(name);

    public static string Url(string provider, string? model, BodyFormat format) =>
        Urls.TryGetValue(provider, out var url) ? url(model, format) : Urls["openai"](model, format);

    /// <summary>Guesses the vendor from the body's own markers.</summary>
    public static string Sniff(byte[] body, BodyFormat format)
    {
        if (format == BodyFormat.AwsEventStream)
        {
            return "aws.bedrock";
        }

        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 1 << 20));
        bool Has(string marker) => text.Contains(marker, StringComparison.Ordinal);
        if (Has("message_start") || (Has("\"type\":\"message\"") && Has("stop_reason")) || Has("cache_creation_input_tokens"))
        {
            return "anthropic";
        }

        if (Has("usageMetadata") || Has("\"candidates\""))
        {
            return "gcp.gemini";
        }

        if (Has("eval_count") || Has("\"done_reason\"") || (format == BodyFormat.NdJson && Has("\"done\"")))
        {
            return "ollama";
        }

        if (Has("billed_units") || Has("message-end"))
        {
            return "cohere";
        }

        if (Has("\"request_id\"") && Has("\"output\"") && Has("\"input_tokens\""))
        {
            return "dashscope";
        }

        return Has("response.completed") || Has("\"object\":\"response\"") || Has("\"object\": \"response\"") ? "openai.responses" : "openai";
    }
}
