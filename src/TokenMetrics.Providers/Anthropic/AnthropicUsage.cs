using System.Text.Json;

namespace TokenMetrics.Providers.Anthropic;

/// <summary>The raw counts of an Anthropic <c>usage</c> object, merged per field (latest wins) across a stream.</summary>
/// <remarks>
/// <para>Anthropic reports cache reads and writes <em>outside</em> <c>input_tokens</c>; <see cref="ToTokenUsage"/> normalises to
/// TokenMetrics' shape (cache inside input) and keeps the raw figures in the detail maps.</para>
/// <para>Streams: <c>message_start.message.usage</c> carries input and cache counts; every <c>message_delta.usage</c> is
/// cumulative (a running total, never an increment), and may or may not repeat the input and cache fields. The merge rule is
/// therefore "latest value per field", never a sum: a field not repeated keeps its earlier value.</para>
/// </remarks>
internal struct AnthropicUsage
{
    public long? Input;
    public long? Output;
    public long? CacheCreation;
    public long? CacheRead;
    public long? Ephemeral5m;
    public long? Ephemeral1h;
    public long? WebSearchRequests;
    public long? WebFetchRequests;
    public long? CodeExecutionRequests;
    public long? Thinking;

    /// <summary>Other counts of <c>output_tokens_details</c> and <c>server_tool_use</c> (names prefixed as in the details map).</summary>
    public TokenCountDictionary? OutputExtras;

    public readonly bool IsEmpty => Input is null && Output is null && CacheCreation is null && CacheRead is null && Thinking is null;

    /// <summary>Parses the usage object the reader is on (StartObject) into <paramref name="target"/>, overwriting only the fields present.</summary>
    public static void Merge(ref Utf8JsonReader reader, ref AnthropicUsage target)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("input_tokens"u8))
            {
                reader.Read();
                target.Input = JsonText.ReadCount(ref reader) ?? target.Input;
            }
            else if (reader.ValueTextEquals("output_tokens"u8))
            {
                reader.Read();
                target.Output = JsonText.ReadCount(ref reader) ?? target.Output;
            }
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8))
            {
                reader.Read();
                target.CacheCreation = JsonText.ReadCount(ref reader) ?? target.CacheCreation;
            }
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8))
            {
                reader.Read();
                target.CacheRead = JsonText.ReadCount(ref reader) ?? target.CacheRead;
            }
            else if (reader.ValueTextEquals("cache_creation"u8))
            {
                reader.Read();
                ReadNested(ref reader, ref target, cache: true);
            }
            else if (reader.ValueTextEquals("server_tool_use"u8))
            {
                reader.Read();
                ReadNested(ref reader, ref target, cache: false);
            }
            else if (reader.ValueTextEquals("output_tokens_details"u8))
            {
                // {"thinking_tokens": n}: the reasoning part of output_tokens (inclusive), per the SDK's OutputTokensDetails.
                reader.Read();
                ReadOutputDetails(ref reader, ref target);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>Parses a usage object that starts at the beginning of <paramref name="json"/>.</summary>
    public static AnthropicUsage Parse(ReadOnlySpan<byte> json)
    {
        var usage = default(AnthropicUsage);
        var reader = new Utf8JsonReader(json);
        if (reader.Read())
        {
            Merge(ref reader, ref usage);
        }

        return usage;
    }

    /// <summary>Normalises: input = input_tokens + cache_creation + cache_read; raw counts kept in the details.</summary>
    public readonly TokenUsage? ToTokenUsage()
    {
        if (IsEmpty)
        {
            return null;
        }

        long? input = Input is null && CacheCreation is null && CacheRead is null ? null : (Input ?? 0) + (CacheCreation ?? 0) + (CacheRead ?? 0);
        var inputDetails = new TokenCountDictionary();
        Add(inputDetails, "input_tokens", Input);
        Add(inputDetails, "cache_creation_input_tokens", CacheCreation);
        Add(inputDetails, "cache_read_input_tokens", CacheRead);
        Add(inputDetails, "ephemeral_5m_input_tokens", Ephemeral5m);
        Add(inputDetails, "ephemeral_1h_input_tokens", Ephemeral1h);
        TokenCountDictionary? outputDetails = null;
        if (WebSearchRequests is not null || WebFetchRequests is not null || CodeExecutionRequests is not null || Thinking is not null || OutputExtras is not null)
        {
            outputDetails = new TokenCountDictionary();
            Add(outputDetails, "thinking_tokens", Thinking);
            Add(outputDetails, "server_tool_use.web_search_requests", WebSearchRequests);
            Add(outputDetails, "server_tool_use.web_fetch_requests", WebFetchRequests);
            Add(outputDetails, "server_tool_use.code_execution_requests", CodeExecutionRequests);
            if (OutputExtras is not null)
            {
                foreach (var (name, value) in OutputExtras)
                {
                    outputDetails.Set(name, value);
                }
            }
        }

        return new TokenUsage
        {
            InputTokenCount = input,
            OutputTokenCount = Output,
            TotalTokenCount = input is null || Output is null ? null : input + Output,
            CachedInputTokenCount = CacheRead,
            CacheWriteInputTokenCount = CacheCreation,
            ReasoningTokenCount = Thinking,
            InputTokenDetails = inputDetails.Count > 0 ? inputDetails : null,
            OutputTokenDetails = outputDetails,
        };
    }

    private static void Add(TokenCountDictionary details, string name, long? value)
    {
        if (value is { } v)
        {
            details.Set(name, v);
        }
    }

    private static void ReadNested(ref Utf8JsonReader reader, ref AnthropicUsage target, bool cache)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (cache && reader.ValueTextEquals("ephemeral_5m_input_tokens"u8))
            {
                reader.Read();
                target.Ephemeral5m = JsonText.ReadCount(ref reader) ?? target.Ephemeral5m;
            }
            else if (cache && reader.ValueTextEquals("ephemeral_1h_input_tokens"u8))
            {
                reader.Read();
                target.Ephemeral1h = JsonText.ReadCount(ref reader) ?? target.Ephemeral1h;
            }
            else if (!cache && reader.ValueTextEquals("web_search_requests"u8))
            {
                reader.Read();
                target.WebSearchRequests = JsonText.ReadCount(ref reader) ?? target.WebSearchRequests;
            }
            else if (!cache && reader.ValueTextEquals("web_fetch_requests"u8))
            {
                reader.Read();
                target.WebFetchRequests = JsonText.ReadCount(ref reader) ?? target.WebFetchRequests;
            }
            else if (!cache && reader.ValueTextEquals("code_execution_requests"u8))
            {
                reader.Read();
                target.CodeExecutionRequests = JsonText.ReadCount(ref reader) ?? target.CodeExecutionRequests;
            }
            else if (!cache)
            {
                // A server tool added after this code was written: keep its count rather than drop it.
                var name = "server_tool_use." + reader.GetString();
                reader.Read();
                SetExtra(ref target, name, JsonText.ReadCount(ref reader));
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadOutputDetails(ref Utf8JsonReader reader, ref AnthropicUsage target)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("thinking_tokens"u8))
            {
                reader.Read();
                target.Thinking = JsonText.ReadCount(ref reader) ?? target.Thinking;
            }
            else
            {
                var name = reader.GetString()!;
                reader.Read();
                SetExtra(ref target, name, JsonText.ReadCount(ref reader));
            }
        }
    }

    private static void SetExtra(ref AnthropicUsage target, string name, long? value)
    {
        if (value is { } v)
        {
            // Copy on write: a usage struct copied before this merge keeps its own map.
            var extras = target.OutputExtras is null ? new TokenCountDictionary() : Copy(target.OutputExtras);
            extras.Set(name, v);
            target.OutputExtras = extras;
        }
    }

    private static TokenCountDictionary Copy(TokenCountDictionary source)
    {
        var copy = new TokenCountDictionary();
        foreach (var (name, value) in source)
        {
            copy.Set(name, value);
        }

        return copy;
    }
}
