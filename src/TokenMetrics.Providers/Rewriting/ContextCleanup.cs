using System.Collections.Generic;
using System.Text.Json.Nodes;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>Higress ai-proxy context-cleanup commands: the last user message whose whole text equals a command (exact,
/// case-sensitive) drops every message before it except system messages, and itself; everything after it is kept.</summary>
internal static class ContextCleanup
{
    /// <summary>Applies the commands to <paramref name="request"/>'s <c>messages</c> in place.</summary>
    /// <returns><see langword="true"/> when messages were removed.</returns>
    public static bool Apply(JsonObject request, IList<string>? commands)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (commands is null || commands.Count == 0 || request["messages"] is not JsonArray messages || messages.Count == 0)
        {
            return false;
        }

        var index = -1;
        for (var i = messages.Count - 1; i >= 0 && index < 0; i--)
        {
            if (messages[i] is JsonObject m && (string?)m["role"] == "user" && TextOf(m) is { } text)
            {
                foreach (var command in commands)
                {
                    if (!string.IsNullOrEmpty(command) && string.Equals(text, command, StringComparison.Ordinal))
                    {
                        index = i;
                        break;
                    }
                }
            }
        }

        if (index < 0)
        {
            return false;
        }

        var kept = new List<JsonNode?>();
        for (var i = 0; i < messages.Count; i++)
        {
            if (i > index || (i < index && messages[i] is JsonObject m && (string?)m["role"] == "system"))
            {
                kept.Add(messages[i]);
            }
        }

        messages.Clear();
        foreach (var node in kept)
        {
            node?.Parent?.AsArray().Remove(node);
            messages.Add(node);
        }

        return true;
    }

    /// <summary>The message's text: a string content, or the concatenated text parts.</summary>
    public static string? TextOf(JsonObject message)
    {
        ArgumentNullException.ThrowIfNull(message);
        switch (message["content"])
        {
            case JsonValue v when v.TryGetValue<string>(out var s):
                return s;
            case JsonArray parts:
                var text = new System.Text.StringBuilder();
                foreach (var part in parts)
                {
                    if (part is JsonObject p && (string?)p["type"] == "text")
                    {
                        text.Append((string?)p["text"]);
                    }
                }

                return text.ToString();
            default:
                return null;
        }
    }
}
