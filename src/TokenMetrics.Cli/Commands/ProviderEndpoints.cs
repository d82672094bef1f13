using System.Collections.Generic;
using System.Text;
using System.Text.Json;

namespace TokenMetrics.Cli.Commands;

/// <summary>For each provider, the kind of endpoint its answers come from, so the right protocol reads a captured body; and
/// which provider's answer a body is, told from its shape.</summary>
internal static class ProviderEndpoints
{
    /// <summary>Stands in the URL for a model the body and the request do not name; never shown as the body's model.</summary>
    public const string UnnamedModel = "tokenmetrics-model-not-named";

    /// <summary>The Bedrock InvokeModel stream (<c>chunk</c> events carrying the model's own events).</summary>
    public const string BedrockInvoke = "aws.bedrock.invoke";

    private static readonly Dictionary<string, Func<string, BodyFormat, string>> Urls = new(StringComparer.OrdinalIgnoreCase)
    {
        ["openai"] = (_, _) => "https://api.openai.com/v1/chat/completions",
        ["openai.responses"] = (_, _) => "https://api.openai.com/v1/responses",
        ["azure.ai.openai"] = (m, _) => $"https://example.openai.azure.com/openai/deployments/{Uri.EscapeDataString(m)}/chat/completions?api-version=2024-10-21",
        ["anthropic"] = (_, _) => "https://api.anthropic.com/v1/messages",
        ["gcp.gemini"] = (m, f) => $"https://generativelanguage.googleapis.com/v1beta/models/{Uri.EscapeDataString(m)}:" + GeminiMethod(f),
        ["gcp.vertex_ai"] = (m, f) => $"https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/{Uri.EscapeDataString(m)}:" + GeminiMethod(f),
        ["aws.bedrock"] = (m, f) => $"https://bedrock-runtime.us-east-1.amazonaws.com/model/{Uri.EscapeDataString(m)}/" + (f.IsStream ? "converse-stream" : "converse"),
        [BedrockInvoke] = (m, f) => $"https://bedrock-runtime.us-east-1.amazonaws.com/model/{Uri.EscapeDataString(m)}/" + (f.IsStream ? "invoke-with-response-stream" : "invoke"),
        ["dashscope"] = (_, _) => "https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation",
        ["ollama"] = (_, _) => "http://localhost:11434/api/chat",
        ["cohere"] = (_, _) => "https://api.cohere.com/v2/chat",
        ["deepl"] = (_, _) => "https://api.deepl.com/v2/translate",
        ["deepseek"] = (_, _) => "https://api.deepseek.com/chat/completions",
        ["mistral_ai"] = (_, _) => "https://api.mistral.ai/v1/chat/completions",
        ["moonshot_ai"] = (_, _) => "https://api.moonshot.ai/v1/chat/completions",
    };

    public static IEnumerable<string> Names => Urls.Keys;

    public static bool IsKnown(string name) => Urls.ContainsKey(name);

    public static string Url(string provider, string? model, BodyFormat format) =>
        Urls.TryGetValue(provider, out var url) ? url(model ?? UnnamedModel, format) : Urls["openai"](model ?? UnnamedModel, format);

    /// <summary>Tells the vendor from the body's shape: its first documents (and, for a file, its last bytes, where usage is);
    /// <see langword="null"/> when the shape is not one TokenMetrics knows, so the caller asks for <c>--provider</c> instead of guessing.</summary>
    public static string? Sniff(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, BodyFormat format)
    {
        if (format == BodyFormat.AwsEventStream)
        {
            return BodyFormat.FirstAwsEventType(head) switch
            {
                "chunk" => BedrockInvoke,
                "messageStart" or "contentBlockStart" or "contentBlockDelta" or "contentBlockStop" or "messageStop" or "metadata" => "aws.bedrock",
                { } type when type.EndsWith("Exception", StringComparison.Ordinal) => "aws.bedrock",
                _ => null,
            };
        }

        foreach (var document in Documents(head, format))
        {
            var shape = Shape.Read(document);
            if (Classify(shape) is { } provider)
            {
                return provider;
            }
        }

        // A huge first document (inline images, thousands of embeddings) may show its telling members only at the end.
        return format == BodyFormat.Json ? ClassifyTail(tail) : null;
    }

    private static string GeminiMethod(BodyFormat f) =>
        f.IsStream ? "streamGenerateContent" + (f == BodyFormat.EventStream ? "?alt=sse" : string.Empty) : "generateContent";

    private static string? Classify(Shape s)
    {
        if (s.Type is "message" or "message_start" or "content_block_start" or "content_block_delta" or "content_block_stop" or "message_delta" or "message_stop"
            || (s.Type == "error" && s.Has("error")))
        {
            return "anthropic";
        }

        if (s.Object == "response" || s.Type?.StartsWith("response.", StringComparison.Ordinal) == true)
        {
            return "openai.responses";
        }

        if (s.Type is "message-start" or "content-start" or "content-delta" or "content-end" or "message-end" or "tool-plan-delta" or "tool-call-start"
            or "tool-call-delta" or "tool-call-end" or "citation-start" or "citation-end"
            || s.Has("usage.billed_units") || s.Has("meta.billed_units"))
        {
            return "cohere";
        }

        if (s.Has("candidates") || s.Has("usageMetadata") || s.Has("promptFeedback"))
        {
            return "gcp.gemini";
        }

        if (s.Has("output") && (s.Has("request_id") || s.Has("usage.input_tokens")))
        {
            return "dashscope";
        }

        if (s.Has("stopReason") || s.Has("usage.inputTokens") || (s.Has("output") && s.Has("metrics")))
        {
            return "aws.bedrock";
        }

        if (s.Has("eval_count") || s.Has("prompt_eval_count") || (s.Has("created_at") && (s.Has("done") || s.Has("message") || s.Has("response"))))
        {
            return "ollama";
        }

        if (s.Has("translations"))
        {
            return "deepl";
        }

        if (s.Object is "chat.completion" or "chat.completion.chunk" or "text_completion" or "list" || s.Has("choices"))
        {
            return s.Has("usage.prompt_cache_hit_tokens") ? "deepseek" : "openai";
        }

        if (s.Has("error"))
        {
            // Ollama: {"error": "text"}; Gemini: {"error": {"code", "message", "status"}}; OpenAI and compatible: {"error": {"message", "type"}}.
            return s.ErrorIsString ? "ollama" : s.Has("error.status") ? "gcp.gemini" : "openai";
        }

        return null;
    }

    private static string? ClassifyTail(ReadOnlySpan<byte> tail)
    {
        return tail.IndexOf("\"usageMetadata\""u8) >= 0 ? "gcp.gemini"
            : tail.IndexOf("\"eval_count\""u8) >= 0 || tail.IndexOf("\"prompt_eval_count\""u8) >= 0 ? "ollama"
            : tail.IndexOf("\"billed_units\""u8) >= 0 ? "cohere"
            : tail.IndexOf("\"stopReason\""u8) >= 0 ? "aws.bedrock"
            : tail.IndexOf("\"stop_reason\""u8) >= 0 && tail.IndexOf("\"cache_read_input_tokens\""u8) >= 0 ? "anthropic"
            : tail.IndexOf("\"completion_tokens\""u8) >= 0 ? "openai"
            : null;
    }

    /// <summary>The first few JSON documents of the head, as the format frames them.</summary>
    private static List<byte[]> Documents(ReadOnlySpan<byte> head, BodyFormat format)
    {
        var documents = new List<byte[]>();
        if (format == BodyFormat.Json)
        {
            documents.Add(head.ToArray());
        }
        else if (format == BodyFormat.JsonArrayStream)
        {
            var start = head.IndexOf((byte)'{');
            if (start >= 0)
            {
                documents.Add(head[start..].ToArray());
            }
        }
        else if (format == BodyFormat.NdJson)
        {
            foreach (var line in Encoding.UTF8.GetString(head).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (documents.Count < 4 && line.StartsWith('{'))
                {
                    documents.Add(Encoding.UTF8.GetBytes(line));
                }
            }
        }
        else if (format == BodyFormat.EventStream)
        {
            // Each event's data lines; the event name alone tells Anthropic and Cohere apart too, but the data is enough.
            foreach (var line in Encoding.UTF8.GetString(head).Split('\n'))
            {
                var trimmed = line.TrimEnd('\r');
                if (documents.Count < 8 && trimmed.StartsWith("data:", StringComparison.Ordinal))
                {
                    var data = trimmed[5..].TrimStart();
                    if (data.StartsWith('{'))
                    {
                        documents.Add(Encoding.UTF8.GetBytes(data));
                    }
                }
            }
        }

        return documents;
    }

    /// <summary>The members of a JSON object that tell vendors apart: top-level names, the <c>type</c> and <c>object</c> values,
    /// and the names inside <c>usage</c>, <c>meta</c> and <c>error</c>. Reads a cut document up to the cut.</summary>
    private sealed class Shape
    {
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);

        public string? Type { get; private set; }

        public string? Object { get; private set; }

        public bool ErrorIsString { get; private set; }

        public bool Has(string name) => _names.Contains(name);

        public static Shape Read(byte[] json)
        {
            var shape = new Shape();
            var reader = new Utf8JsonReader(json, isFinalBlock: false, state: default);
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    return shape;
                }

                string? parent = null;
                while (reader.Read())
                {
                    if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0)
                    {
                        break;
                    }

                    if (reader.TokenType != JsonTokenType.PropertyName)
                    {
                        continue;
                    }

                    var depth = reader.CurrentDepth;
                    var name = reader.GetString()!;
                    if (depth == 1)
                    {
                        shape._names.Add(name);
                        if (!reader.Read())
                        {
                            break;
                        }

                        if (reader.TokenType == JsonTokenType.String && name is "type" or "object")
                        {
                            _ = name == "type" ? shape.Type = reader.GetString() : shape.Object = reader.GetString();
                        }
                        else if (reader.TokenType == JsonTokenType.String && name == "error")
                        {
                            shape.ErrorIsString = true;
                        }
                        else if (reader.TokenType == JsonTokenType.StartObject && name is "usage" or "meta" or "error")
                        {
                            parent = name;
                        }
                        else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                        {
                            break;
                        }
                    }
                    else if (depth == 2 && parent is not null)
                    {
                        shape._names.Add(parent + "." + name);
                    }
                }
            }
            catch (JsonException)
            {
                // Not JSON past some point: the members read so far still count.
            }

            return shape;
        }
    }
}
