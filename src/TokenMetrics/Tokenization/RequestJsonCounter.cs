using System.Collections.Generic;
using System.Text.Json;

namespace TokenMetrics.Internal;

/// <summary>Walks a raw chat request (OpenAI Chat Completions, Responses, Completions and Embeddings; Anthropic Messages;
/// Gemini generateContent) and feeds its messages and tools to a <see cref="ChatTokenCounter"/>.</summary>
internal static class RequestJsonCounter
{
    public static void Count(JsonElement root, ChatTokenCounter counter, string? model)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        // Anthropic's top-level system prompt and OpenAI Responses' instructions are billed like a system message.
        if (root.TryGetProperty("system", out var system))
        {
            counter.BeginMessage("system", null);
            AddContent(counter, system);
        }

        if (root.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String)
        {
            counter.BeginMessage("system", null);
            counter.AddText(instructions.GetString());
        }

        if (root.TryGetProperty("systemInstruction", out var systemInstruction) || root.TryGetProperty("system_instruction", out systemInstruction))
        {
            counter.BeginMessage("system", null);
            AddContent(counter, systemInstruction);
        }

        if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                AddMessage(counter, message);
            }
        }

        if (root.TryGetProperty("contents", out var contents) && contents.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in contents.EnumerateArray())
            {
                AddMessage(counter, message);
            }
        }

        if (root.TryGetProperty("input", out var input))
        {
            var embeddings = model?.Contains("embedding", StringComparison.OrdinalIgnoreCase) == true;
            if (input.ValueKind == JsonValueKind.String && !embeddings)
            {
                counter.BeginMessage("user", null);
                counter.AddText(input.GetString());
            }
            else if (input.ValueKind == JsonValueKind.Array && !embeddings)
            {
                foreach (var item in input.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object)
                    {
                        AddMessage(counter, item);
                    }
                    else
                    {
                        AddContent(counter, item);
                    }
                }
            }
            else
            {
                AddContent(counter, input);
            }
        }

        if (root.TryGetProperty("prompt", out var prompt))
        {
            AddContent(counter, prompt);
        }

        counter.AddFunctions(Functions(root));
        counter.End();
    }

    /// <summary>For malformed JSON: the tokens of every string value that could be read before the error.</summary>
    public static long CountReadableStrings(ReadOnlySpan<byte> json, Func<string, int> count)
    {
        long tokens = 0;
        long consumed = 0;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            var counted = false;
            while (reader.Read())
            {
                consumed = reader.BytesConsumed;
                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    counted = !reader.ValueTextEquals("model"u8) && !reader.ValueTextEquals("role"u8);
                }
                else if (reader.TokenType == JsonTokenType.String && counted)
                {
                    tokens += count(reader.GetString() ?? string.Empty);
                }
            }
        }
        catch (JsonException)
        {
            // A string cut off by the error (a truncated body) still counts, up to where it stops.
            var rest = json[(int)consumed..].TrimStart(" \t\r\n:,"u8);
            if (rest.Length > 1 && rest[0] == '"')
            {
                tokens += count(System.Text.Encoding.UTF8.GetString(rest[1..]));
            }
        }

        return tokens;
    }

    private static void AddMessage(ChatTokenCounter counter, JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            AddContent(counter, message);
            return;
        }

        var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        var name = message.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        counter.BeginMessage(role, name);
        if (message.TryGetProperty("content", out var content))
        {
            AddContent(counter, content);
        }

        if (message.TryGetProperty("parts", out var parts))
        {
            AddContent(counter, parts);
        }

        if (message.TryGetProperty("tool_calls", out var toolCalls) && toolCalls.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in toolCalls.EnumerateArray())
            {
                if (call.TryGetProperty("function", out var function))
                {
                    counter.AddToolCall(String(function, "name"), String(function, "arguments"));
                }
            }
        }

        if (message.TryGetProperty("function_call", out var functionCall))
        {
            counter.AddToolCall(String(functionCall, "name"), String(functionCall, "arguments"));
        }

        // Responses API items that are not messages (function_call, function_call_output).
        if (role is null && message.TryGetProperty("arguments", out var arguments))
        {
            counter.AddToolCall(String(message, "name"), arguments.ValueKind == JsonValueKind.String ? arguments.GetString() : arguments.GetRawText());
        }

        if (message.TryGetProperty("output", out var output))
        {
            AddContent(counter, output);
        }
    }

    /// <summary>A string, or an array of content parts of any of the supported vendors.</summary>
    private static void AddContent(ChatTokenCounter counter, JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                counter.AddText(content.GetString());
                return;
            case JsonValueKind.Array:
                foreach (var part in content.EnumerateArray())
                {
                    AddContent(counter, part);
                }

                return;
            case JsonValueKind.Object:
                break;
            default:
                return;
        }

        var type = String(content, "type");
        if (content.TryGetProperty("text", out var text))
        {
            AddContent(counter, text);
        }
        else if (type is "image_url" or "image" or "input_image" || content.TryGetProperty("inlineData", out _) || content.TryGetProperty("inline_data", out _))
        {
            counter.AddTokens(ChatTokenCounter.TokensPerImage);
        }
        else if (type == "tool_use")
        {
            counter.AddToolCall(String(content, "name"), content.TryGetProperty("input", out var input) ? input.GetRawText() : null);
        }
        else if (type == "tool_result" && content.TryGetProperty("content", out var result))
        {
            AddContent(counter, result);
        }
        else if (content.TryGetProperty("functionCall", out var call))
        {
            counter.AddToolCall(String(call, "name"), call.TryGetProperty("args", out var args) ? args.GetRawText() : null);
        }
        else if (content.TryGetProperty("functionResponse", out var response))
        {
            counter.AddText(response.TryGetProperty("response", out var body) ? body.GetRawText() : null);
        }
        else if (content.TryGetProperty("parts", out var parts))
        {
            AddContent(counter, parts);
        }
    }

    private static IEnumerable<(string? Name, string? Description, JsonElement Parameters)> Functions(JsonElement root)
    {
        if (root.TryGetProperty("functions", out var functions) && functions.ValueKind == JsonValueKind.Array)
        {
            foreach (var f in functions.EnumerateArray())
            {
                yield return Function(f, "parameters");
            }
        }

        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            if (tool.TryGetProperty("function", out var function))
            {
                yield return Function(function, "parameters"); // OpenAI Chat Completions
            }
            else if (tool.TryGetProperty("functionDeclarations", out var declarations) || tool.TryGetProperty("function_declarations", out declarations))
            {
                foreach (var declaration in declarations.EnumerateArray())
                {
                    yield return Function(declaration, "parameters"); // Gemini
                }
            }
            else if (tool.TryGetProperty("input_schema", out _))
            {
                yield return Function(tool, "input_schema"); // Anthropic
            }
            else if (tool.TryGetProperty("name", out _))
            {
                yield return Function(tool, "parameters"); // OpenAI Responses
            }
        }
    }

    private static (string? Name, string? Description, JsonElement Parameters) Function(JsonElement f, string schemaProperty) =>
        (String(f, "name"), String(f, "description"), f.ValueKind == JsonValueKind.Object && f.TryGetProperty(schemaProperty, out var p) ? p : default);

    private static string? String(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
