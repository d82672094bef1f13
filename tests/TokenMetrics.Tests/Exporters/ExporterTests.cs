using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace TokenMetrics.Tests.Exporters;

public class ExporterTests
{
    private static TokenUsageRecord Sample(TokenUsageSource source = TokenUsageSource.Reported, TokenUsageStatus status = TokenUsageStatus.Ok) => new()
    {
        Provider = "openai",
        Operation = "chat",
        RequestModel = "gpt-4o",
        ResponseModel = "gpt-4o-2024-08-06",
        ServerAddress = "api.openai.com",
        ServerPort = 443,
        IsStreaming = true,
        Status = status,
        ErrorType = status == TokenUsageStatus.Ok ? null : "cancelled",
        Duration = TimeSpan.FromMilliseconds(1500),
        TimeToFirstChunk = TimeSpan.FromMilliseconds(250),
        Usage = source == TokenUsageSource.Missing ? TokenUsage.Empty : new TokenUsage { InputTokenCount = 1200, OutputTokenCount = 80, TotalTokenCount = 1280, CachedInputTokenCount = 1024, ReasoningTokenCount = 64 },
        Source = source,
        Consumer = "team-a",
        UserId = "u1",
        SessionId = "s1",
    };

    [Fact]
    public async Task MeterExporter_EmitsGenAiInstrumentsWithSemanticConventionAttributes()
    {
        var meterName = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N");
        // One collector per instrument the exporter creates; each listens only to this test's meter.
        using var tokenUsage = new MetricCollector<long>(null, meterName, "gen_ai.client.token.usage");
        using var cachedInput = new MetricCollector<long>(null, meterName, "tokenmetrics.usage.cached_input_tokens");
        using var cacheWrite = new MetricCollector<long>(null, meterName, "tokenmetrics.usage.cache_write_input_tokens");
        using var reasoning = new MetricCollector<long>(null, meterName, "tokenmetrics.usage.reasoning_tokens");
        using var operations = new MetricCollector<long>(null, meterName, "tokenmetrics.operations");
        using var duration = new MetricCollector<double>(null, meterName, "gen_ai.client.operation.duration");
        using var timeToFirstChunk = new MetricCollector<double>(null, meterName, "gen_ai.client.operation.time_to_first_chunk");
        using var exporter = new MeterTokenUsageExporter(meterName);

        await exporter.ExportAsync([Sample(), Sample(TokenUsageSource.Missing, TokenUsageStatus.Cancelled)], default);

        var usage = tokenUsage.GetMeasurementSnapshot();
        Assert.Equal(2, usage.Count);
        var input = usage.Single(m => (string?)m.Tags["gen_ai.token.type"] == "input");
        Assert.Equal(1200, input.Value);
        Assert.Equal("openai", input.Tags["gen_ai.provider.name"]);
        Assert.Equal("chat", input.Tags["gen_ai.operation.name"]);
        Assert.Equal("gpt-4o", input.Tags["gen_ai.request.model"]);
        Assert.Equal("gpt-4o-2024-08-06", input.Tags["gen_ai.response.model"]);
        Assert.Equal("api.openai.com", input.Tags["server.address"]);
        Assert.Equal("reported", input.Tags["tokenmetrics.usage.source"]);
        Assert.Equal(80, usage.Single(m => (string?)m.Tags["gen_ai.token.type"] == "output").Value);
        Assert.Equal(1024, Assert.Single(cachedInput.GetMeasurementSnapshot()).Value);
        Assert.Equal(64, Assert.Single(reasoning.GetMeasurementSnapshot()).Value);
        Assert.Equal(2, operations.GetMeasurementSnapshot().Sum(m => m.Value));

        var durations = duration.GetMeasurementSnapshot();
        Assert.Equal(2, durations.Count);
        Assert.Equal(1.5, durations[0].Value, 3);
        Assert.False(durations[0].Tags.ContainsKey("error.type"));
        Assert.Equal("cancelled", durations[1].Tags["error.type"]);
        Assert.Equal(0.25, timeToFirstChunk.GetMeasurementSnapshot()[0].Value, 3);
        var allTags = new[] { tokenUsage, cachedInput, cacheWrite, reasoning, operations }.SelectMany(c => c.GetMeasurementSnapshot().Select(m => m.Tags))
            .Concat(new[] { duration, timeToFirstChunk }.SelectMany(c => c.GetMeasurementSnapshot().Select(m => m.Tags)));
        Assert.DoesNotContain(allTags, tags => tags.ContainsKey("user") || tags.Values.Contains("u1") || tags.Values.Contains("s1"));
    }

    [Fact]
    public async Task MeterExporter_CostCounter_PricedRecordsOnly_WithCurrencyAndBaseTags()
    {
        var meterName = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N");
        using var cost = new MetricCollector<double>(null, meterName, "tokenmetrics.cost");
        using var exporter = new MeterTokenUsageExporter(meterName);
        var content = new TokenUsageContent { Question = "content-canary" };

        await exporter.ExportAsync(
        [
            Sample() with { Cost = 0.0125m, Currency = "USD", Content = content },
            Sample() with { Cost = 0.5m, Currency = "EUR", Content = content },
            Sample(),                                                           // unknown price: nothing, never 0
            Sample() with { Cost = 0.25m, Currency = "USD", GenAIMetricsRecordedElsewhere = true }, // cost is not a gen_ai.* instrument
        ], default);

        var measurements = cost.GetMeasurementSnapshot();
        Assert.Equal(3, measurements.Count);
        Assert.Equal([0.0125, 0.5, 0.25], measurements.Select(m => m.Value));
        Assert.Equal(["USD", "EUR", "USD"], measurements.Select(m => (string?)m.Tags["tokenmetrics.currency"]));
        var first = measurements[0];
        Assert.Equal("openai", first.Tags["gen_ai.provider.name"]);
        Assert.Equal("chat", first.Tags["gen_ai.operation.name"]);
        Assert.Equal("gpt-4o", first.Tags["gen_ai.request.model"]);
        Assert.Equal("gpt-4o-2024-08-06", first.Tags["gen_ai.response.model"]);
        Assert.Equal("reported", first.Tags["tokenmetrics.usage.source"]);
        Assert.DoesNotContain(measurements.SelectMany(m => m.Tags.Values), v => v is "content-canary" or "u1" or "s1");
        Assert.Equal("{currency}", cost.Instrument!.Unit);
    }

    [Fact]
    public async Task LoggingExporter_CostCurrencyAndFeature_NeverContent()
    {
        var logger = new CapturingLogger();
        var exporter = new LoggingTokenUsageExporter(logger);

        await exporter.ExportAsync(
        [
            Sample() with { Cost = 0.0125m, Currency = "USD", Feature = "search", Content = new TokenUsageContent { Question = "content-canary", Answer = "answer-canary" } },
            Sample(),
        ], default);

        Assert.Equal(2, logger.Entries.Count);
        var (_, state, message) = logger.Entries[0];
        Assert.Equal(0.0125m, state["cost"]);
        Assert.Equal("USD", state["currency"]);
        Assert.Equal("search", state["feature"]);
        Assert.Contains("cost=0.0125 currency=USD feature=search", message, StringComparison.Ordinal);
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains("canary", StringComparison.Ordinal) || e.State.Values.Any(v => v?.ToString()?.Contains("canary", StringComparison.Ordinal) == true));
        Assert.Null(logger.Entries[1].State["cost"]); // unknown price: empty, never 0
    }

    [Fact]
    public async Task LoggingExporter_WritesTheSeedFieldsAsStructuredState()
    {
        var logger = new CapturingLogger();
        var exporter = new LoggingTokenUsageExporter(logger);

        await exporter.ExportAsync([Sample()], default);

        var (level, state, message) = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Information, level);
        Assert.StartsWith("Token usage statistics", message, StringComparison.Ordinal);
        Assert.Equal("gpt-4o-2024-08-06", state["model"]);
        Assert.Equal(1200L, state["input_tokens"]);
        Assert.Equal(80L, state["output_tokens"]);
        Assert.Equal(1280L, state["total_tokens"]);
        Assert.Equal("team-a", state["consumer"]);
        Assert.Equal(1024L, state["cached_tokens"]);
        Assert.Equal("reported", state["usage_source"]);
    }

    [Fact]
    public async Task LoggingExporter_ModelNameWithNewline_EveryMessageIsOneLine()
    {
        // The case: 16 records, 6 of them with a model name that tries to forge a second log line.
        var logger = new FakeLogger();
        var exporter = new LoggingTokenUsageExporter(logger);
        const string forged = "gpt-4o\n2026-01-01 INFO Admin login succeeded";
        var batch = Enumerable.Range(0, 16).Select(i => i % 3 == 0
            ? Sample() with { ResponseModel = forged, Consumer = "team\r\nb", UserId = "u\u2028x", SessionId = "s\u001b[31m", Provider = "open\u0085ai" }
            : Sample()).ToList();
        Assert.Equal(6, batch.Count(r => r.ResponseModel == forged));

        await exporter.ExportAsync(batch, default);

        var entries = logger.Collector.GetSnapshot();
        Assert.Equal(16, entries.Count);
        Assert.All(entries, e => Assert.Equal(-1, e.Message.AsSpan().IndexOfAny("\r\n\u0085\u2028\u2029\u001b")));
        var hostile = entries.Where(e => e.Message.Contains("Admin login", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, hostile.Count);
        Assert.All(hostile, e =>
        {
            Assert.Contains("model=gpt-4o\\n2026-01-01 INFO Admin login succeeded ", e.Message, StringComparison.Ordinal);
            Assert.Contains("consumer=team\\r\\nb ", e.Message, StringComparison.Ordinal);
            Assert.Contains("provider=open\\u0085ai ", e.Message, StringComparison.Ordinal);
            Assert.Contains("user=u\\u2028x ", e.Message, StringComparison.Ordinal);
            Assert.Contains("session_id=s\\u001b[31m ", e.Message, StringComparison.Ordinal);
            Assert.Equal("gpt-4o\\n2026-01-01 INFO Admin login succeeded", e.GetStructuredStateValue("model"));
        });
    }

    [Fact]
    public void LoggingExporter_Escape_LeavesCleanTextAlone()
    {
        const string clean = "claude-3-5-sonnet@20240620 ü€😀 \\n";
        Assert.Same(clean, LoggingTokenUsageExporter.Escape(clean));
        Assert.Null(LoggingTokenUsageExporter.Escape(null));
        Assert.Equal("a\\u0000b\\u007fc\\u2029d\\te", LoggingTokenUsageExporter.Escape("a\0b\u007fc\u2029d\te"));
    }

    /// <summary>Keeps each entry's structured values with their types. FakeLogger (Microsoft.Extensions.Diagnostics.Testing)
    /// would do for level and message, but it turns the state into strings, and this test checks that counts are logged as numbers.</summary>
    private sealed class CapturingLogger : ILogger
    {
        public List<(LogLevel Level, Dictionary<string, object?> State, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            Entries.Add((logLevel, values.ToDictionary(kv => kv.Key, kv => kv.Value), formatter(state, exception)));
        }
    }
}
