using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenMetrics.Exporters.Tests.Infrastructure;

namespace TokenMetrics.Exporters.Tests.AiLog;

public sealed class AiLogFileExporterTests : IDisposable
{
    private readonly string _root = Servers.NewTempDirectory("tm-ailog");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Writes_HigressFieldNames_WithNumbersAsNumbers()
    {
        var exporter = new AiLogFileExporter(new AiLogExporterOptions { Directory = Path.Combine(_root, "logs") });
        var record = Records.Chat(input: 100, output: 50, cached: 80, reasoning: 25, consumer: "clawdbot", streaming: true, session: "agent:main:discord:1465367993012981988") with
        {
            Tags = new Dictionary<string, string> { ["chat_round"] = "3", ["api"] = "gpt-4o@higress" },
            Usage = new TokenUsage
            {
                InputTokenCount = 100,
                OutputTokenCount = 50,
                TotalTokenCount = 150,
                CachedInputTokenCount = 80,
                ReasoningTokenCount = 25,
                InputTokenDetails = new Dictionary<string, long> { ["cached_tokens"] = 80, ["audio_tokens"] = 2 },
            },
        };

        await exporter.ExportAsync([record, Records.Chat(status: TokenUsageStatus.Error, source: TokenUsageSource.Missing)], CancellationToken.None);

        var lines = File.ReadAllLines(exporter.FilePath);
        Assert.Equal(2, lines.Length);
        using var json = JsonDocument.Parse(lines[0]);
        var log = json.RootElement;
        Assert.Equal("agent:main:discord:1465367993012981988", log.GetProperty("session_id").GetString());
        Assert.Equal("gpt-4o-2024-08-06", log.GetProperty("model").GetString());
        Assert.Equal(JsonValueKind.Number, log.GetProperty("input_token").ValueKind);
        Assert.Equal(100, log.GetProperty("input_token").GetInt64());
        Assert.Equal(50, log.GetProperty("output_token").GetInt64());
        Assert.Equal(150, log.GetProperty("total_token").GetInt64());
        Assert.Equal(25, log.GetProperty("reasoning_tokens").GetInt64());
        Assert.Equal(80, log.GetProperty("cached_tokens").GetInt64());
        Assert.Equal("{\"audio_tokens\":2,\"cached_tokens\":80}", log.GetProperty("input_token_details").GetString());
        Assert.Equal("{\"reasoning_tokens\":25}", log.GetProperty("output_token_details").GetString());
        Assert.Equal(3, log.GetProperty("chat_round").GetInt64());
        Assert.Equal("clawdbot", log.GetProperty("consumer").GetString());
        Assert.Equal("gpt-4o@higress", log.GetProperty("api").GetString());
        Assert.Equal("LLM", log.GetProperty("api_type").GetString());
        Assert.Equal("normal", log.GetProperty("response_type").GetString());
        Assert.Equal(309, log.GetProperty("llm_first_token_duration").GetInt64());
        Assert.Equal(1955, log.GetProperty("llm_service_duration").GetInt64());
        Assert.Equal("reported", log.GetProperty("usage_source").GetString());
        Assert.Equal("openai", log.GetProperty("provider").GetString());
        Assert.Equal("ok", log.GetProperty("status").GetString());
        Assert.Equal(record.Id.ToString("N"), log.GetProperty("record_id").GetString());
        Assert.Equal("2026-11-22T10:30:15.123Z", log.GetProperty("timestamp").GetString());
        foreach (var content in new[] { "question", "answer", "messages", "reasoning", "tool_calls" })
        {
            Assert.False(log.TryGetProperty(content, out _), content);
        }

        using var error = JsonDocument.Parse(lines[1]);
        Assert.Equal("error", error.RootElement.GetProperty("response_type").GetString());
        Assert.Equal("missing", error.RootElement.GetProperty("usage_source").GetString());
        Assert.False(error.RootElement.TryGetProperty("input_token", out _)); // unknown is omitted, never 0
    }

    [Fact]
    public async Task CapturedContentAndCost_WrittenWithHigressNames_NumbersAsNumbers()
    {
        var exporter = new AiLogFileExporter(new AiLogExporterOptions { Directory = _root });
        var record = Records.Chat() with
        {
            Cost = 0.000123456789m,
            Currency = "USD",
            Content = new TokenUsageContent
            {
                Question = "What's the weather in Paris?\n\"quoted\"",
                Answer = "Let me check.",
                Reasoning = "The user wants weather; call the tool.",
                ToolCalls =
                [
                    new TokenUsageToolCall { Index = 0, Id = "call_abc", Type = "function", Name = "get_weather", Arguments = "{\"city\":\"Paris\"}" },
                    new TokenUsageToolCall { Index = 1, Id = "call_def", Name = "get_time", Arguments = "{}" },
                ],
            },
        };

        await exporter.ExportAsync([record, Records.Chat()], CancellationToken.None);

        var lines = File.ReadAllLines(exporter.FilePath);
        using var json = JsonDocument.Parse(lines[0]);
        var log = json.RootElement;
        Assert.Equal("What's the weather in Paris?\n\"quoted\"", log.GetProperty("question").GetString());
        Assert.Equal("Let me check.", log.GetProperty("answer").GetString());
        Assert.Equal("The user wants weather; call the tool.", log.GetProperty("reasoning").GetString());
        var calls = log.GetProperty("tool_calls");
        Assert.Equal(JsonValueKind.Array, calls.ValueKind);
        Assert.Equal(2, calls.GetArrayLength());
        Assert.Equal(0, calls[0].GetProperty("index").GetInt32());
        Assert.Equal("call_abc", calls[0].GetProperty("id").GetString());
        Assert.Equal("function", calls[0].GetProperty("type").GetString());
        Assert.Equal("get_weather", calls[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{\"city\":\"Paris\"}", calls[0].GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal(1, calls[1].GetProperty("index").GetInt32());
        Assert.Equal("function", calls[1].GetProperty("type").GetString()); // OpenAI's only type, when the vendor left it out
        Assert.Equal("get_time", calls[1].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Number, log.GetProperty("cost").ValueKind);
        Assert.Equal(0.000123456789m, log.GetProperty("cost").GetDecimal());
        Assert.Equal("USD", log.GetProperty("currency").GetString());

        // Not captured, not priced: no content fields, no cost (never 0).
        using var plain = JsonDocument.Parse(lines[1]);
        foreach (var name in new[] { "question", "answer", "reasoning", "tool_calls", "cost", "currency" })
        {
            Assert.False(plain.RootElement.TryGetProperty(name, out _), name);
        }
    }

    [Fact]
    public async Task Wrap_WritesTheAccessLogShape_ThatAgentSessionMonitorReads()
    {
        var exporter = new AiLogFileExporter(new AiLogExporterOptions { Directory = _root, Wrap = true });
        var record = Records.Chat(session: "sess_abc123");

        await exporter.ExportAsync([record], CancellationToken.None);

        // agent-session-monitor: json.loads(line); if 'ai_log' in obj: json.loads(obj['ai_log']).
        using var outer = JsonDocument.Parse(File.ReadAllLines(exporter.FilePath).Single());
        Assert.Equal(["timestamp", "ai_log"], outer.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("2026-11-22T10:30:15.123Z", outer.RootElement.GetProperty("timestamp").GetString());
        Assert.Equal(JsonValueKind.String, outer.RootElement.GetProperty("ai_log").ValueKind);
        using var inner = JsonDocument.Parse(outer.RootElement.GetProperty("ai_log").GetString()!);
        Assert.Equal("sess_abc123", inner.RootElement.GetProperty("session_id").GetString());
        Assert.Equal(100, inner.RootElement.GetProperty("input_token").GetInt64());
        Assert.False(inner.RootElement.TryGetProperty("timestamp", out _));
    }

    [Fact]
    public async Task HostileValues_StayInsideTheirFieldAndLine()
    {
        var exporter = new AiLogFileExporter(new AiLogExporterOptions { Directory = _root, Wrap = true });
        const string hostile = "m\"}\n{\"input_token\":999999,\"x\":\"</script>\u0000\u001b[31m\\";
        await exporter.ExportAsync([Records.Chat(model: "ignored", session: hostile, consumer: hostile) with { ResponseModel = hostile }], CancellationToken.None);

        var text = await File.ReadAllTextAsync(exporter.FilePath);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("</script>", text, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', text);
        using var outer = JsonDocument.Parse(text);
        using var inner = JsonDocument.Parse(outer.RootElement.GetProperty("ai_log").GetString()!);
        Assert.Equal(hostile, inner.RootElement.GetProperty("model").GetString());
        Assert.Equal(hostile, inner.RootElement.GetProperty("session_id").GetString());
        Assert.Equal(100, inner.RootElement.GetProperty("input_token").GetInt64());
    }

    [Fact]
    public async Task Rotation_KeepsNFiles_NewestInDotOne()
    {
        var exporter = new AiLogFileExporter(new AiLogExporterOptions { Directory = _root, MaxFileBytes = 2048, MaxRotatedFiles = 2 });
        var records = Enumerable.Range(0, 40).Select(i => Records.Chat(input: i)).ToList();
        foreach (var chunk in records.Chunk(3))
        {
            await exporter.ExportAsync(chunk, CancellationToken.None);
        }

        var files = Directory.GetFiles(_root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["ai_log.jsonl", "ai_log.jsonl.1", "ai_log.jsonl.2"], files);
        var perFile = files.Select(f => File.ReadAllLines(Path.Combine(_root, f!)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("input_token").GetInt64()).ToList()).ToList();
        Assert.All(files, f => Assert.InRange(new FileInfo(Path.Combine(_root, f!)).Length, 1, 2048));

        // Oldest (.2) → .1 → current hold consecutive, increasing records ending with the last one; older ones were dropped.
        var ordered = perFile[2].Concat(perFile[1]).Concat(perFile[0]).ToList();
        Assert.Equal(39, ordered[^1]);
        Assert.Equal(Enumerable.Range((int)ordered[0], ordered.Count).Select(i => (long)i), ordered);
        Assert.True(ordered[0] > 0, "the oldest records must have been rotated away");
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Permissions_AreOwnerOnly()
    {
        var dir = Path.Combine(_root, "nested", "ai");
        var exporter = new AiLogFileExporter(new AiLogExporterOptions { Directory = dir, MaxFileBytes = 1024, MaxRotatedFiles = 1 });
        await exporter.ExportAsync(Enumerable.Range(0, 10).Select(_ => Records.Chat()).ToList(), CancellationToken.None);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(exporter.FilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(exporter.FilePath + ".1"));

        // A pre-existing world-readable file is tightened before usage is appended to it.
        var other = new AiLogFileExporter(new AiLogExporterOptions { Directory = _root, FileName = "old.jsonl" });
        await File.WriteAllTextAsync(other.FilePath, "");
        File.SetUnixFileMode(other.FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await other.ExportAsync([Records.Chat()], CancellationToken.None);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(other.FilePath));
    }

    [Theory]
    [InlineData(null, "ai_log.jsonl")]
    [InlineData("relative/dir", "ai_log.jsonl")]
    [InlineData("/abs", "../escape.jsonl")]
    [InlineData("/abs", "sub/file.jsonl")]
    [InlineData("/abs", "..")]
    public void Options_RequireAnExplicitDirectory_AndAPlainFileName(string? directory, string fileName)
    {
        Assert.Throws<OptionsValidationException>(() => new AiLogFileExporter(new AiLogExporterOptions { Directory = directory, FileName = fileName }));
    }

    [Fact]
    public void Options_AreValidatedAtStartUp()
    {
        var services = new ServiceCollection();
        services.AddTokenMetrics().AddAiLogExporter(o => o.MaxFileBytes = 10);
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetServices<ITokenUsageExporter>().ToList());
        Assert.Contains("Directory", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxFileBytes", error.Message, StringComparison.Ordinal);
    }
}
