using System.Text;
using System.Text.Json;

namespace TokenMetrics.Internal;

/// <summary>Finds the last user message in a request body, whatever the vendor's shape: OpenAI Chat Completions and Anthropic
/// <c>messages</c> (string content or text blocks), OpenAI Responses <c>input</c> (a string or items), Gemini <c>contents</c>
/// (text parts), legacy <c>prompt</c>.</summary>
internal static class RequestQuestion
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 256, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Returns the text of the last user message, its text parts joined by new lines; <see langword="null"/> when none.</summary>
    public static string? Find(ReadOnlySpan<byte> json)
    {
        string? question = null;
        try
        {
            var reader = new Utf8JsonReader(json, Options);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var messages = reader.ValueTextEquals("messages"u8) || reader.ValueTextEquals("input"u8);
                var contents = !messages && reader.ValueTextEquals("contents"u8);
                var prompt = !messages && !contents && reader.ValueTextEquals("prompt"u8);
                reader.Read();
                if ((messages || prompt) && reader.TokenType == JsonTokenType.String)
                {
                    // Responses "input" and legacy "prompt" may be the user's text itself.
                    question = reader.GetString();
                }
                else if ((messages || contents) && reader.TokenType == JsonTokenType.StartArray)
                {
                    LastUser(ref reader, roleDefaultsToUser: contents, ref question);
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // A cut or malformed body: what was found before the bad byte stands.
        }

        return question;
    }

    /// <summary>Sets <paramref name="question"/> at each user message, so a body cut later keeps what came before the cut.</summary>
    private static void LastUser(ref Utf8JsonReader reader, bool roleDefaultsToUser, ref string? question)
    {
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            var (role, text) = ReadMessage(ref reader);
            if (text is not null && (role == "user" || (role is null && roleDefaultsToUser)))
            {
                question = text;
            }
        }
    }

    private static (string? Role, string? Text) ReadMessage(ref Utf8JsonReader reader)
    {
        string? role = null;
        StringBuilder? text = null;
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("role"u8))
            {
                reader.Read();
                role = reader.TokenType == JsonTokenType.String ? reader.GetString() : role;
            }
            else if (reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("parts"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    Add(ref text, reader.GetString());
                }
                else if (reader.TokenType == JsonTokenType.StartArray)
                {
                    ReadTextParts(ref reader, ref text);
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return (role, text?.ToString());
    }

    /// <summary>Joins the <c>text</c> of each part (<c>text</c>, <c>input_text</c> blocks, Gemini parts); images, tool results and the
    /// like have none at that level and are skipped.</summary>
    private static void ReadTextParts(ref Utf8JsonReader reader, ref StringBuilder? text)
    {
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == depth))
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                Add(ref text, reader.GetString());
                continue;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            var partDepth = reader.CurrentDepth;
            while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == partDepth))
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        Add(ref text, reader.GetString());
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
    }

    private static void Add(ref StringBuilder? text, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        if (text is null)
        {
            text = new StringBuilder(value);
        }
        else
        {
            text.Append('\n').Append(value);
        }
    }
}
