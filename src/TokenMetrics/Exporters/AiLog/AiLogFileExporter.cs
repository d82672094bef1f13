using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using TokenMetrics.Internal;

namespace TokenMetrics;

/// <summary>Appends one Higress-compatible <c>ai_log</c> JSON line per call to a size-rotated file.</summary>
/// <remarks>
/// <para>Fields (omitted when unknown; numbers are JSON numbers): <c>session_id</c>, <c>model</c> (response model, else requested),
/// <c>input_token</c>, <c>output_token</c>, <c>total_token</c>, <c>reasoning_tokens</c>, <c>cached_tokens</c>,
/// <c>input_token_details</c> and <c>output_token_details</c> (JSON strings, as Higress writes them), <c>chat_round</c>
/// (<see cref="TokenUsageRecord.RoundIndex"/> + 1, else the record tag of that name), <c>api</c> (the record tag of that name, else the
/// client name), <c>consumer</c>, <c>api_type</c>
/// (<c>LLM</c>), <c>response_type</c> (<c>normal</c> or <c>error</c>), <c>llm_first_token_duration</c> and
/// <c>llm_service_duration</c> (milliseconds), and TokenMetrics' own <c>usage_source</c>, <c>provider</c>, <c>status</c>,
/// <c>record_id</c> and <c>timestamp</c> (ISO 8601; on the wrapper instead when <see cref="AiLogExporterOptions.Wrap"/> is on);
/// <c>cost</c> (a JSON number) and <c>currency</c> when the record was priced.</para>
/// <para>Captured content, only when content capture is on (off by default), with Higress' names: <c>question</c>, <c>answer</c>,
/// <c>reasoning</c>, <c>tool_calls</c> (<c>[{"index","id","type","function":{"name","arguments"}}]</c>). Strings are JSON-escaped (control characters, quotes,
/// HTML-sensitive and non-ASCII characters), so a hostile value stays inside its field and on its line.</para>
/// <para>Files are owner-only (0600, directory 0700) on Unix. A failed write throws a transient
/// <see cref="TokenUsageExportException"/>; lines already written stay, so a retried batch can repeat lines: de-duplicate by <c>record_id</c>.</para>
/// </remarks>
public sealed class AiLogFileExporter : ITokenUsageExporter
{
    private const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly AiLogExporterOptions _options;
    private readonly string _path;
    private readonly Lock _lock = new();

    /// <summary>Initializes a new instance of the <see cref="AiLogFileExporter"/> class and creates the directory when missing.</summary>
    /// <param name="options">The options.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid.</exception>
    public AiLogFileExporter(AiLogExporterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ExporterOptions.ThrowIfInvalid(nameof(AiLogExporterOptions), options.Validate());
        _options = options;
        var directory = Path.GetFullPath(options.Directory!);
        _path = Path.Combine(directory, options.FileName);
        if (!System.IO.Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                System.IO.Directory.CreateDirectory(directory);
            }
            else
            {
                System.IO.Directory.CreateDirectory(directory, DirectoryMode700);
            }
        }
    }

    /// <summary>Gets the full path of the current log file.</summary>
    public string FilePath => _path;

    /// <summary>Formats one record as an ai_log JSON object (without wrapping).</summary>
    /// <param name="record">The record.</param>
    /// <returns>The UTF-8 JSON.</returns>
    internal static byte[] FormatAiLog(TokenUsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Format(record, includeTimestamp: false);
    }

    /// <inheritdoc/>
    public ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_lock)
        {
            try
            {
                WriteLocked(batch, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new TokenUsageExportException($"ai_log file {_options.FileName}: {ex.GetType().Name}", isTransient: true, innerException: ex);
            }
        }

        return ValueTask.FromResult(TokenUsageExportResult.Success);
    }

    private static byte[] Format(TokenUsageRecord r, bool includeTimestamp)
    {
        using var buffer = new MemoryStream(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            WriteString(w, "session_id", r.SessionId);
            WriteString(w, "model", r.ResponseModel ?? r.RequestModel);
            var u = r.Usage;
            WriteNumber(w, "input_token", u.InputTokenCount);
            WriteNumber(w, "output_token", u.OutputTokenCount);
            WriteNumber(w, "total_token", u.GetTotalOrSum());
            WriteNumber(w, "reasoning_tokens", u.ReasoningTokenCount);
            WriteNumber(w, "cached_tokens", u.CachedInputTokenCount);
            WriteDetails(w, "input_token_details", u.InputTokenDetails, "cached_tokens", u.CachedInputTokenCount);
            WriteDetails(w, "output_token_details", u.OutputTokenDetails, "reasoning_tokens", u.ReasoningTokenCount);
            if (r.RoundIndex is { } roundIndex)
            {
                // Higress counts rounds from 1; RoundIndex is zero-based.
                w.WriteNumber("chat_round", roundIndex + 1L);
            }
            else if (r.Tags is { } tags && tags.TryGetValue("chat_round", out var round) &&
                long.TryParse(round, NumberStyles.None, CultureInfo.InvariantCulture, out var chatRound))
            {
                w.WriteNumber("chat_round", chatRound);
            }

            WriteString(w, "consumer", r.Consumer);
            WriteString(w, "api", r.Tags is { } t && t.TryGetValue("api", out var api) ? api : r.ClientName);
            w.WriteString("api_type", "LLM");
            w.WriteString("response_type", r.Status == TokenUsageStatus.Ok ? "normal" : "error");
            if (r.TimeToFirstChunk is { } ttfc)
            {
                w.WriteNumber("llm_first_token_duration", (long)Math.Round(ttfc.TotalMilliseconds));
            }

            w.WriteNumber("llm_service_duration", (long)Math.Round(r.Duration.TotalMilliseconds));
            w.WriteString("usage_source", TokenUsageNames.Source(r.Source));
            WriteString(w, "provider", r.Provider);
            w.WriteString("status", TokenUsageNames.Status(r.Status));
            w.WriteString("record_id", r.Id.ToString("N", CultureInfo.InvariantCulture));
            if (r.Cost is { } cost)
            {
                // Extra fields (Higress has none for cost): a JSON number with the decimal's exact digits; absent when the price is unknown.
                w.WriteNumber("cost", cost);
                WriteString(w, "currency", r.Currency);
            }

            WriteContent(w, r.Content);
            if (includeTimestamp)
            {
                w.WriteString("timestamp", r.Timestamp.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            }

            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Writes captured content with Higress ai-statistics' names: <c>question</c>, <c>answer</c>, <c>reasoning</c>,
    /// <c>tool_calls</c> (OpenAI's shape: <c>index</c>, <c>id</c>, <c>type</c>, <c>function</c> {<c>name</c>, <c>arguments</c>}).</summary>
    private static void WriteContent(Utf8JsonWriter w, TokenUsageContent? content)
    {
        if (content is null)
        {
            return;
        }

        WriteString(w, "question", content.Question);
        WriteString(w, "answer", content.Answer);
        WriteString(w, "reasoning", content.Reasoning);
        if (content.ToolCalls is not { Count: > 0 } calls)
        {
            return;
        }

        w.WriteStartArray("tool_calls");
        foreach (var call in calls)
        {
            w.WriteStartObject();
            w.WriteNumber("index", call.Index);
            WriteString(w, "id", call.Id);
            w.WriteString("type", call.Type ?? "function");
            w.WriteStartObject("function");
            WriteString(w, "name", call.Name);
            WriteString(w, "arguments", call.Arguments);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WriteString(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteNumber(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }

    // Higress writes token details as a JSON string inside the JSON; agent-session-monitor parses either form.
    private static void WriteDetails(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, long>? details, string key, long? fallback)
    {
        var merged = new SortedDictionary<string, long>(StringComparer.Ordinal);
        if (details is not null)
        {
            foreach (var (k, v) in details)
            {
                merged[k] = v;
            }
        }

        if (fallback is { } f && !merged.ContainsKey(key))
        {
            merged[key] = f;
        }

        if (merged.Count == 0)
        {
            return;
        }

        using var buffer = new MemoryStream(64);
        using (var inner = new Utf8JsonWriter(buffer))
        {
            inner.WriteStartObject();
            foreach (var (k, v) in merged)
            {
                inner.WriteNumber(k, v);
            }

            inner.WriteEndObject();
        }

        w.WriteString(name, Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private byte[] Line(TokenUsageRecord record)
    {
        if (!_options.Wrap)
        {
            return [.. Format(record, includeTimestamp: true), (byte)'\n'];
        }

        using var buffer = new MemoryStream(768);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("timestamp", record.Timestamp.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WriteString("ai_log", Encoding.UTF8.GetString(Format(record, includeTimestamp: false)));
            w.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private void WriteLocked(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
    {
        var stream = Open();
        try
        {
            foreach (var record in batch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var line = Line(record);
                if (stream.Length > 0 && stream.Length + line.Length > _options.MaxFileBytes)
                {
                    stream.Flush(_options.FlushToDisk);
                    stream.Dispose();
                    Rotate();
                    stream = Open();
                }

                stream.Write(line);
            }

            stream.Flush(_options.FlushToDisk);
        }
        finally
        {
            stream.Dispose();
        }
    }

    private FileStream Open()
    {
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode600;
        }

        var stream = new FileStream(_path, options);
        if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(stream.SafeFileHandle) != FileMode600)
        {
            // A file left by someone else's umask: tighten it before writing usage into it.
            File.SetUnixFileMode(stream.SafeFileHandle, FileMode600);
        }

        return stream;
    }

    private void Rotate()
    {
        var keep = _options.MaxRotatedFiles;
        if (keep == 0)
        {
            File.Delete(_path);
            return;
        }

        File.Delete(RotatedPath(keep));
        for (var i = keep - 1; i >= 1; i--)
        {
            var from = RotatedPath(i);
            if (File.Exists(from))
            {
                File.Move(from, RotatedPath(i + 1));
            }
        }

        File.Move(_path, RotatedPath(1));
    }

    private string RotatedPath(int index) => _path + "." + index.ToString(CultureInfo.InvariantCulture);
}
