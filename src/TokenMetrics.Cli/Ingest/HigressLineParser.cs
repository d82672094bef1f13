using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using TokenMetrics.Internal;

namespace TokenMetrics.Cli.Ingest;

/// <summary>Turns one Higress access-log line (a JSON object carrying the ai-statistics plugin's <c>ai_log</c>) into a
/// <see cref="TokenUsageRecord"/>, straight from the line's UTF-8 bytes.</summary>
/// <remarks>
/// <para>Accepts what Higress and its session monitor actually write (seed 004): <c>ai_log</c> as a JSON string (double
/// encoded) or an object; token counts as numbers or numeric strings; <c>input_token_details</c>/<c>output_token_details</c>
/// as JSON strings or objects. The event time is the line's <c>timestamp</c> (or Envoy's <c>start_time</c>), never the time
/// of parsing (the monitor's bug).</para>
/// <para>The record id is derived from the line's byte offset within its file and its bytes, so the same line read again —
/// after a lost state file or a rotation — gets the same id and the store ignores it.</para>
/// </remarks>
internal sealed class HigressLineParser(TokenUsagePriceCatalog catalog, bool captureContent, int contentLimit = TextTruncation.DefaultLimit)
{
    /// <summary>The client name every ingested record carries, so reports can tell gateway-log records from metered ones.</summary>
    public const string ClientName = "higress-ai-log";

    /// <summary>The provider when the model is not in the price catalog (the gateway is all we know).</summary>
    public const string DefaultProvider = "higress";

    /// <summary>Tag set to <see cref="FileTimeTagValue"/> when the line had no usable timestamp.</summary>
    public const string TimestampTag = "higress.timestamp";

    /// <summary>The value of <see cref="TimestampTag"/>: the record's time is the log file's last-write time.</summary>
    public const string FileTimeTagValue = "file-mtime";

    private static readonly DateTimeOffset MinTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Distinct tag maps remembered for sharing.</summary>
    private const int MaxSharedTagMaps = 1024;

    // Per parser (one per reading thread): the tag maps records can share (records are read-only once built), and the field
    // holder reused line after line, which reads the log's repeated strings through its cache.
    private readonly Dictionary<(string? Api, string? ApiType, string? ResponseType), IReadOnlyDictionary<string, string>> _sharedTags = [];
    private readonly AiLog _fields = new(new Utf8StringCache(maxEntries: 4096));

    /// <summary>Parses one line (without its newline).</summary>
    /// <param name="line">The line's bytes.</param>
    /// <param name="offset">The line's byte offset within its file (part of the id).</param>
    /// <param name="fileTime">The file's last-write time, used when the line carries no timestamp.</param>
    /// <param name="record">The record, when the line is an ai_log line.</param>
    /// <param name="problem">Why the line was skipped, otherwise <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when a record was produced.</returns>
    public bool TryParse(ReadOnlySpan<byte> line, long offset, DateTimeOffset fileTime, out TokenUsageRecord? record, out string? problem)
    {
        record = null;
        if (!Utf8.IsValid(line))
        {
            problem = "invalid UTF-8";
            return false;
        }

        try
        {
            return TryParseCore(line, offset, fileTime, out record, out problem);
        }
        catch (JsonException)
        {
            problem = "not JSON";
            return false;
        }
        catch (InvalidOperationException)
        {
            // Utf8JsonReader's typed getters throw this on a value of the wrong kind.
            problem = "unexpected value";
            return false;
        }
    }

    private bool TryParseCore(ReadOnlySpan<byte> line, long offset, DateTimeOffset fileTime, out TokenUsageRecord? record, out string? problem)
    {
        record = null;
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            problem = "not a JSON object";
            return false;
        }

        DateTimeOffset? timestamp = null;
        var fields = _fields;
        fields.Reset();
        var found = false;
        byte[]? rented = null;
        try
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("ai_log"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        // Double-encoded: unescape into a pooled buffer and read that as JSON.
                        var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
                        rented = ArrayPool<byte>.Shared.Rent(Math.Max(length, 16));
                        var written = reader.CopyString(rented);
                        var inner = new Utf8JsonReader(rented.AsSpan(0, written));
                        if (!inner.Read() || inner.TokenType != JsonTokenType.StartObject)
                        {
                            problem = "ai_log is not a JSON object";
                            return false;
                        }

                        if (!fields.Read(ref inner, captureContent, out problem))
                        {
                            return false;
                        }
                    }
                    else if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        if (!fields.Read(ref reader, captureContent, out problem))
                        {
                            return false;
                        }
                    }
                    else
                    {
                        problem = "ai_log is neither a JSON string nor an object";
                        return false;
                    }

                    found = true;
                }
                else if (timestamp is null && (reader.ValueTextEquals("timestamp"u8) || reader.ValueTextEquals("start_time"u8)))
                {
                    reader.Read();
                    timestamp = ReadTime(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject)
            {
                problem = "not JSON";
                return false;
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        if (!found)
        {
            problem = "no ai_log";
            return false;
        }

        problem = fields.Problem;
        if (problem is not null)
        {
            return false;
        }

        record = Build(fields, timestamp, fileTime, IdOf(line, offset, timestamp));
        return true;
    }

    /// <summary>A deterministic id: the line's own time in Unix milliseconds (48 bits, as in a version 7 id), then the 128-bit XXH3
    /// hash of the line's bytes seeded with its offset (version 8, "custom"); a line without a time gets the hash alone.</summary>
    /// <remarks>Not a cryptographic hash, and it need not be: one offset of one log file holds one line, so the hash only has to
    /// tell apart lines that differ, never resist a line crafted to collide with another line that sits at the same offset of
    /// another file. SHA-256 cost 1.4-6 us a line here (a native context per call), a third of all parsing; XXH3 costs 0.15 us.
    /// The time comes first so a log's ids ascend like the records' own: the stores' unique index on the id then grows at its
    /// end, where random ids dirtied an index page per record. Only the line's time is used (never the file's, which moves as a
    /// live file grows), so a line read again gets the same id.</remarks>
    internal static Guid IdOf(ReadOnlySpan<byte> line, long offset, DateTimeOffset? timestamp)
    {
        Span<byte> digest = stackalloc byte[16];
        System.IO.Hashing.XxHash128.Hash(line, digest, offset);
        if (timestamp is { } time && time.ToUnixTimeMilliseconds() is var ms and >= 0 and < 1L << 48)
        {
            for (var i = 0; i < 6; i++)
            {
                digest[i] = (byte)(ms >> (40 - (8 * i)));
            }
        }

        digest[6] = (byte)((digest[6] & 0x0F) | 0x80);
        digest[8] = (byte)((digest[8] & 0x3F) | 0x80);
        return new Guid(digest, bigEndian: true);
    }

    private static DateTimeOffset? ReadTime(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return null;
        }

        if (reader.TryGetDateTimeOffset(out var value))
        {
            return value >= MinTime ? value : null;
        }

        // Lenient forms ("2026-02-01 10:00:00", "+0800" offsets): invariant culture, UTC when no offset is given.
        return DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value) && value >= MinTime ? value : null;
    }

    private TokenUsageRecord Build(AiLog f, DateTimeOffset? timestamp, DateTimeOffset fileTime, Guid id)
    {
        Dictionary<string, string>? extra = null;
        if (f.ToolCallCount > 0)
        {
            // The count only (names and arguments are content): which rounds asked for tools.
            (extra ??= new(StringComparer.Ordinal))["higress.tool_calls"] = f.ToolCallCount.ToString(CultureInfo.InvariantCulture);
        }

        if (timestamp is null)
        {
            (extra ??= new(StringComparer.Ordinal))[TimestampTag] = FileTimeTagValue;
        }

        var usage = Normalise(f, ref extra);
        var tags = Tags(f, extra);
        var model = f.Model ?? ModelOfApi(f.Api);
        var match = catalog.Resolve(model);
        var cost = usage.IsEmpty ? null : match?.Entry.Price.ComputeCost(usage);
        var isError = string.Equals(f.ResponseType, "error", StringComparison.OrdinalIgnoreCase);
        return new TokenUsageRecord
        {
            Id = id,
            Timestamp = timestamp ?? fileTime,
            Provider = match?.Entry.Provider ?? DefaultProvider,
            Operation = "chat",
            RequestModel = model,
            ResponseModel = model,
            ResponseId = f.ChatId,
            IsStreaming = string.Equals(f.ResponseType, "stream", StringComparison.OrdinalIgnoreCase),
            Status = isError ? TokenUsageStatus.Error : TokenUsageStatus.Ok,
            Duration = f.ServiceMs is { } ms && ms >= 0 ? TimeSpan.FromMilliseconds(ms) : TimeSpan.Zero,
            TimeToFirstChunk = f.FirstTokenMs is { } first && first >= 0 ? TimeSpan.FromMilliseconds(first) : null,
            Usage = usage,
            Source = usage.IsEmpty ? TokenUsageSource.Missing : TokenUsageSource.Reported,
            Consumer = f.Consumer,
            SessionId = f.SessionId,
            RoundIndex = f.ChatRound is { } round and >= 1 and <= int.MaxValue ? (int)(round - 1) : null,
            Tags = tags,
            Cost = cost,
            Currency = cost is null ? null : match!.Entry.Price.Currency,
            PricedModel = cost is null ? null : match!.Entry.Key,
            Content = captureContent ? Content(f) : null,
            ClientName = ClientName,
            Layer = TokenUsageLayer.Manual,
        };
    }

    /// <summary>The record's tags: the route, API type and response type, plus this line's own tags. Lines without their own
    /// share one read-only map per combination (a log has a handful), so most records cost no dictionary.</summary>
    private IReadOnlyDictionary<string, string> Tags(AiLog f, Dictionary<string, string>? extra)
    {
        if (extra is null && _sharedTags.TryGetValue((f.Api, f.ApiType, f.ResponseType), out var shared))
        {
            return shared;
        }

        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (f.Api is not null)
        {
            tags["higress.api"] = f.Api;
        }

        if (f.ApiType is not null)
        {
            tags["higress.api_type"] = f.ApiType;
        }

        if (f.ResponseType is not null)
        {
            tags["higress.response_type"] = f.ResponseType;
        }

        if (extra is not null)
        {
            foreach (var (key, value) in extra)
            {
                tags[key] = value;
            }

            return tags;
        }

        if (_sharedTags.Count < MaxSharedTagMaps)
        {
            var frozen = System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(tags, StringComparer.Ordinal);
            _sharedTags[(f.Api, f.ApiType, f.ResponseType)] = frozen;
            return frozen;
        }

        return tags;
    }

    /// <summary>The repository's shape: cached inside input, reasoning inside output. Higress copies the vendor's OpenAI-style
    /// usage (already that shape); a count that exceeds its parent (the seed's o1 line: reasoning 500 &gt; output 80) shows
    /// the vendor counted it outside, so it is added to the parent. A reported total below input + output is kept as a tag.</summary>
    private static TokenUsage Normalise(AiLog f, ref Dictionary<string, string>? tags)
    {
        var cached = f.Cached ?? Detail(f.InputDetails, "cached_tokens");
        var reasoning = f.Reasoning ?? Detail(f.OutputDetails, "reasoning_tokens");
        var input = f.Input;
        var output = f.Output;
        if (input is { } i && cached is { } c && c > i)
        {
            input = i + c;
        }

        if (output is { } o && reasoning is { } r && r > o)
        {
            output = o + r;
        }

        long? total = input is null && output is null ? f.Total : (input ?? 0) + (output ?? 0);
        if (f.Total is { } reported && reported != total)
        {
            if (reported > total)
            {
                total = reported;
            }
            else
            {
                (tags ??= new(StringComparer.Ordinal))["higress.total_token"] = reported.ToString(CultureInfo.InvariantCulture);
            }
        }

        return new TokenUsage
        {
            InputTokenCount = input,
            OutputTokenCount = output,
            TotalTokenCount = total,
            CachedInputTokenCount = cached,
            ReasoningTokenCount = reasoning,
            InputTokenDetails = f.InputDetails,
            OutputTokenDetails = f.OutputDetails,
        };
    }

    private static long? Detail(IReadOnlyDictionary<string, long>? details, string key) =>
        details is not null && details.TryGetValue(key, out var value) ? value : null;

    /// <summary>Higress names routes <c>MODEL@higress</c>; without a <c>model</c> field that is the best guess.</summary>
    private static string? ModelOfApi(string? api)
    {
        if (string.IsNullOrEmpty(api))
        {
            return null;
        }

        var at = api.IndexOf('@', StringComparison.Ordinal);
        return at > 0 ? api[..at] : api;
    }

    private TokenUsageContent? Content(AiLog f)
    {
        if (f.Question is null && f.Answer is null && f.ReasoningText is null && f.ToolCalls is null)
        {
            return null;
        }

        return new TokenUsageContent
        {
            Question = Bound(f.Question),
            Answer = Bound(f.Answer),
            Reasoning = Bound(f.ReasoningText),
            ToolCalls = f.ToolCalls?.ConvertAll(call => call.Arguments is { Length: > 0 } arguments && arguments.Length > contentLimit
                ? new TokenUsageToolCall { Index = call.Index, Id = call.Id, Type = call.Type, Name = call.Name, Arguments = Bound(arguments) }
                : call),
        };
    }

    private string? Bound(string? text) => text is null ? null : TextTruncation.Truncate(text, contentLimit);

    /// <summary>The ai_log fields TokenMetrics maps; everything else (messages, safecheck_*, user attributes) is skipped.</summary>
    private sealed class AiLog(Utf8StringCache strings)
    {
        // A session's lines share its id string (sessions are too many for the bounded cache of repeated values, which keeps
        // the first ones it sees); details are read into one scratch map and shared (TokenCountDictionary.Share): most lines
        // report the same few, such as {"cached_tokens":0}.
        private readonly RecentStrings _sessions = new();
        private readonly TokenCountDictionary _details = new();

        public string? Model, Api, ApiType, ResponseType, ChatId, SessionId, Consumer, Question, Answer, ReasoningText, Problem;
        public int ToolCallCount;
        public long? Input, Output, Total, Cached, Reasoning, ChatRound, FirstTokenMs, ServiceMs;
        public IReadOnlyDictionary<string, long>? InputDetails, OutputDetails;
        public List<TokenUsageToolCall>? ToolCalls;
        /// <summary>Clears every field for the next line.</summary>
        public void Reset()
        {
            Model = Api = ApiType = ResponseType = ChatId = SessionId = Consumer = Question = Answer = ReasoningText = Problem = null;
            ToolCallCount = 0;
            Input = Output = Total = Cached = Reasoning = ChatRound = FirstTokenMs = ServiceMs = null;
            InputDetails = OutputDetails = null;
            ToolCalls = null;
        }

        /// <summary>Reads the object the reader is on (its StartObject); a bad number sets <see cref="Problem"/>.</summary>
        public bool Read(ref Utf8JsonReader reader, bool content, out string? problem)
        {
            var depth = reader.CurrentDepth;
            while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    problem = "not JSON";
                    return false;
                }

                var name = reader.ValueSpan;
                var escaped = reader.ValueIsEscaped;
                reader.Read();
                if (escaped)
                {
                    reader.Skip();
                    continue;
                }

                switch (name)
                {
                    case var n when n.SequenceEqual("model"u8): Model = Repeated(ref reader); break;
                    case var n when n.SequenceEqual("input_token"u8): Input = Number(ref reader, "input_token"); break;
                    case var n when n.SequenceEqual("output_token"u8): Output = Number(ref reader, "output_token"); break;
                    case var n when n.SequenceEqual("total_token"u8): Total = Number(ref reader, "total_token"); break;
                    case var n when n.SequenceEqual("cached_tokens"u8): Cached = Number(ref reader, "cached_tokens"); break;
                    case var n when n.SequenceEqual("reasoning_tokens"u8): Reasoning = Number(ref reader, "reasoning_tokens"); break;
                    case var n when n.SequenceEqual("input_token_details"u8): InputDetails = Details(ref reader); break;
                    case var n when n.SequenceEqual("output_token_details"u8): OutputDetails = Details(ref reader); break;
                    case var n when n.SequenceEqual("llm_first_token_duration"u8): FirstTokenMs = Number(ref reader, "llm_first_token_duration"); break;
                    case var n when n.SequenceEqual("llm_service_duration"u8): ServiceMs = Number(ref reader, "llm_service_duration"); break;
                    case var n when n.SequenceEqual("chat_round"u8): ChatRound = Number(ref reader, "chat_round"); break;
                    case var n when n.SequenceEqual("response_type"u8): ResponseType = Repeated(ref reader); break;
                    case var n when n.SequenceEqual("chat_id"u8): ChatId = Text(ref reader); break;
                    case var n when n.SequenceEqual("session_id"u8): SessionId = reader.TokenType == JsonTokenType.String ? NullIfEmpty(_sessions.Read(ref reader)) : Text(ref reader); break;
                    case var n when n.SequenceEqual("consumer"u8): Consumer = Repeated(ref reader); break;
                    case var n when n.SequenceEqual("api"u8): Api = Repeated(ref reader); break;
                    case var n when n.SequenceEqual("api_type"u8): ApiType = Repeated(ref reader); break;
                    case var n when content && n.SequenceEqual("question"u8): Question = Text(ref reader); break;
                    case var n when content && n.SequenceEqual("answer"u8): Answer = Text(ref reader); break;
                    case var n when content && n.SequenceEqual("reasoning"u8): ReasoningText = Text(ref reader); break;
                    case var n when n.SequenceEqual("tool_calls"u8) && content: ToolCalls = Tools(ref reader); ToolCallCount = ToolCalls?.Count ?? 0; break;
                    case var n when n.SequenceEqual("tool_calls"u8): ToolCallCount = CountArray(ref reader); break;
                    default: reader.Skip(); break;
                }

                if (Problem is not null)
                {
                    problem = Problem;
                    return false;
                }
            }

            problem = null;
            return true;
        }

        /// <summary>A value a log repeats (model, route, consumer, types): shared through the parser's string cache.</summary>
        private string? Repeated(ref Utf8JsonReader reader) =>
            reader.TokenType == JsonTokenType.String ? NullIfEmpty(strings.Read(ref reader)) : Text(ref reader);

        private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

        private static string? Text(ref Utf8JsonReader reader)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    var text = reader.GetString();
                    return string.IsNullOrEmpty(text) ? null : text;
                case JsonTokenType.Number:
                    return Encoding.UTF8.GetString(reader.ValueSpan);
                default:
                    reader.Skip();
                    return null;
            }
        }

        /// <summary>A count as a number or a numeric string; empty string and null mean unknown; anything else is a bad line.</summary>
        private long? Number(ref Utf8JsonReader reader, string field)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.Null:
                    return null;
                case JsonTokenType.Number when reader.TryGetInt64(out var value) && value >= 0:
                    return value;
                case JsonTokenType.Number when reader.TryGetDouble(out var real) && real >= 0 && real < 9e15 && real == Math.Floor(real):
                    return (long)real;
                case JsonTokenType.String:
                    var span = reader.ValueSpan;
                    if (span.IsEmpty && !reader.ValueIsEscaped)
                    {
                        return null;
                    }

                    if (!reader.ValueIsEscaped && System.Buffers.Text.Utf8Parser.TryParse(span, out long parsed, out var consumed) && consumed == span.Length && parsed >= 0)
                    {
                        return parsed;
                    }

                    break;
            }

            if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject)
            {
                reader.Skip();
            }

            Problem = $"bad number in {field}";
            return null;
        }

        /// <summary>Token details: a JSON object or a JSON string holding one; a detail that is not a count is left out (the
        /// monitor gives <c>{}</c> on a parse error; here only the unreadable entries go).</summary>
        private TokenCountDictionary? Details(ref Utf8JsonReader reader)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                // Unescaped into a stack (or pooled) buffer and read from there: no string and no byte array per line.
                var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
                var rented = length > 512 ? ArrayPool<byte>.Shared.Rent(length) : null;
                Span<byte> buffer = rented ?? stackalloc byte[512];
                try
                {
                    var written = reader.CopyString(buffer);
                    var inner = new Utf8JsonReader(buffer[..written]);
                    return inner.Read() && inner.TokenType == JsonTokenType.StartObject ? DetailObject(ref inner) : null;
                }
                catch (JsonException)
                {
                    return null;
                }
                finally
                {
                    if (rented is not null)
                    {
                        ArrayPool<byte>.Shared.Return(rented);
                    }
                }
            }

            if (reader.TokenType == JsonTokenType.StartObject)
            {
                return DetailObject(ref reader);
            }

            reader.Skip();
            return null;
        }

        private TokenCountDictionary? DetailObject(ref Utf8JsonReader reader)
        {
            var depth = reader.CurrentDepth;
            var result = _details;
            result.Clear();
            while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
            {
                var key = strings.Read(ref reader)!;
                reader.Read();
                long? value = reader.TokenType switch
                {
                    JsonTokenType.Number when reader.TryGetInt64(out var n) => n,
                    JsonTokenType.String when long.TryParse(reader.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var s) => s,
                    _ => null,
                };
                if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject)
                {
                    reader.Skip();
                }

                if (value is { } v)
                {
                    result.Set(key, v);
                }
            }

            return TokenCountDictionary.Share(result);
        }

        private static int CountArray(ref Utf8JsonReader reader)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                return 0;
            }

            var count = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                count++;
                reader.Skip();
            }

            return count;
        }

        private static List<TokenUsageToolCall>? Tools(ref Utf8JsonReader reader)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                return null;
            }

            List<TokenUsageToolCall>? calls = null;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                using var call = JsonDocument.ParseValue(ref reader);
                var root = call.RootElement;
                var function = root.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
                (calls ??= []).Add(new TokenUsageToolCall
                {
                    Index = root.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number && i.TryGetInt32(out var index) ? index : calls.Count,
                    Id = StringOf(root, "id"),
                    Type = StringOf(root, "type"),
                    Name = function.ValueKind == JsonValueKind.Object ? StringOf(function, "name") : null,
                    Arguments = function.ValueKind == JsonValueKind.Object ? StringOf(function, "arguments") : null,
                });
            }

            return calls;
        }

        private static string? StringOf(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => value.GetRawText(),
            } : null;
    }
}

/// <summary>The strings of the last distinct values seen, by a hash of their text: values that recur close together (a session's
/// lines) share one string. A miss replaces the slot, so the table never fills up with old values.</summary>
internal sealed class RecentStrings
{
    private const int Slots = 256; // a power of two
    private readonly string?[] _slots = new string?[Slots];

    /// <summary>The string value the reader is on (a JSON string), shared with a recent equal one.</summary>
    public string? Read(ref Utf8JsonReader reader)
    {
        if ((reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length) > Utf8StringCache.MaxChars)
        {
            return reader.GetString();
        }

        // UTF-8 never takes fewer bytes than UTF-16 chars, so the value fits.
        Span<char> buffer = stackalloc char[Utf8StringCache.MaxChars];
        var chars = buffer[..reader.CopyString(buffer)];
        ref var slot = ref _slots[string.GetHashCode(chars) & (Slots - 1)];
        if (slot is { } known && chars.SequenceEqual(known))
        {
            return known;
        }

        return slot = new string(chars);
    }
}
