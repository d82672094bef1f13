using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenMetrics.Exporters.Tests.Infrastructure;

namespace TokenMetrics.Exporters.Tests.Prometheus;

public sealed class TokenMetricsPrometheusTests
{
    private static readonly string[] TokenBounds = ["1", "4", "16", "64", "256", "1024", "4096", "16384", "65536", "262144", "1048576", "4194304", "16777216", "67108864", "+Inf"];

    [Fact]
    public async Task WriteAsync_ParsesBack_CountersAndHistograms()
    {
        var metrics = new TokenMetricsPrometheus();
        metrics.Record([
            Records.Chat(input: 100, output: 50, cached: 80, reasoning: 25),
            Records.Chat(input: 300, output: 20, streaming: true),
            Records.Chat(model: "claude", provider: "anthropic", input: 7, output: 3, status: TokenUsageStatus.Error),
            Records.Chat(source: TokenUsageSource.Missing),
        ]);

        using var stream = new MemoryStream();
        await metrics.WriteAsync(stream);
        var text = PrometheusText.Parse(System.Text.Encoding.UTF8.GetString(stream.ToArray()));

        (string, string)[] gpt = [("provider", "openai"), ("model", "gpt-4o"), ("operation", "chat"), ("status", "ok"), ("source", "reported")];
        Assert.Equal(400, text.Value("tokenmetrics_tokens_total", [.. gpt, ("token_type", "input")]));
        Assert.Equal(70, text.Value("tokenmetrics_tokens_total", [.. gpt, ("token_type", "output")]));
        Assert.Equal(80, text.Value("tokenmetrics_tokens_total", [.. gpt, ("token_type", "cached_input")]));
        Assert.Equal(25, text.Value("tokenmetrics_tokens_total", [.. gpt, ("token_type", "reasoning")]));
        Assert.Equal(2, text.Value("tokenmetrics_calls_total", gpt));
        Assert.Equal(1, text.Value("tokenmetrics_calls_total", ("model", "gpt-4o"), ("source", "missing")));
        Assert.Equal(1, text.Value("tokenmetrics_calls_total", ("provider", "anthropic"), ("status", "error")));
        Assert.Equal(10, text.Value("tokenmetrics_tokens_total", ("provider", "anthropic"), ("token_type", "input")) + text.Value("tokenmetrics_tokens_total", ("provider", "anthropic"), ("token_type", "output")));

        // Histogram: cumulative buckets with the GenAI boundaries, +Inf = count, sum of observations.
        (string, string)[] input = [.. gpt, ("token_type", "input")];
        var buckets = text.Samples.Where(s => s.Name == "tokenmetrics_token_usage_bucket" && input.All(l => s.Labels[l.Item1] == l.Item2)).ToList();
        Assert.Equal(TokenBounds, buckets.Select(b => b.Labels["le"]));
        Assert.Equal(0, text.Value("tokenmetrics_token_usage_bucket", [.. input, ("le", "64")]));
        Assert.Equal(1, text.Value("tokenmetrics_token_usage_bucket", [.. input, ("le", "256")]));
        Assert.Equal(2, text.Value("tokenmetrics_token_usage_bucket", [.. input, ("le", "1024")]));
        Assert.Equal(2, text.Value("tokenmetrics_token_usage_bucket", [.. input, ("le", "+Inf")]));
        Assert.Equal(2, text.Value("tokenmetrics_token_usage_count", input));
        Assert.Equal(400, text.Value("tokenmetrics_token_usage_sum", input));

        Assert.Equal(1.955 * 2, text.Value("tokenmetrics_operation_duration_seconds_sum", gpt), 9);
        Assert.Equal(2, text.Value("tokenmetrics_operation_duration_seconds_bucket", [.. gpt, ("le", "2.56")]));
        Assert.Equal(0, text.Value("tokenmetrics_operation_duration_seconds_bucket", [.. gpt, ("le", "1.28")]));
        Assert.Equal(1, text.Value("tokenmetrics_time_to_first_chunk_seconds_count", gpt));
        Assert.Equal(1, text.Value("tokenmetrics_time_to_first_chunk_seconds_bucket", [.. gpt, ("le", "0.32")]));
        Assert.Equal(0, text.Value("tokenmetrics_time_to_first_chunk_seconds_bucket", [.. gpt, ("le", "0.16")]));

        Assert.Equal("counter", text.Types["tokenmetrics_tokens_total"]);
        Assert.Equal("counter", text.Types["tokenmetrics_calls_total"]);
        Assert.Equal("histogram", text.Types["tokenmetrics_token_usage"]);
        Assert.Equal("histogram", text.Types["tokenmetrics_operation_duration_seconds"]);
        Assert.Equal("histogram", text.Types["tokenmetrics_time_to_first_chunk_seconds"]);
        Assert.All(text.Types.Keys, name => Assert.True(text.Help.ContainsKey(name), name));
        Assert.DoesNotContain(text.Samples, s => s.Labels.ContainsKey("consumer"));
    }

    [Fact]
    public void Cost_CounterPerCurrency_OnlyPricedCalls_UnpricedCounted()
    {
        var metrics = new TokenMetricsPrometheus();
        metrics.Record([
            Records.Chat() with { Cost = 0.1m, Currency = "USD" },
            Records.Chat() with { Cost = 0.2m, Currency = "USD" },
            Records.Chat() with { Cost = 0.05m, Currency = "EUR" },
            Records.Chat(),                                       // usage, unknown price
            Records.Chat(source: TokenUsageSource.Missing),       // no usage: neither priced nor unpriced
        ]);

        var raw = metrics.GetText();
        var text = PrometheusText.Parse(raw);
        (string, string)[] gpt = [("provider", "openai"), ("model", "gpt-4o"), ("operation", "chat"), ("status", "ok"), ("source", "reported")];
        Assert.Equal("counter", text.Types["tokenmetrics_cost_total"]);
        Assert.Contains("tokenmetrics_cost_total{provider=\"openai\",model=\"gpt-4o\",operation=\"chat\",status=\"ok\",source=\"reported\",currency=\"USD\"} 0.3\n", raw, StringComparison.Ordinal); // exact: 0.1 + 0.2
        Assert.Equal(0.05, text.Value("tokenmetrics_cost_total", [.. gpt, ("currency", "EUR")]));
        Assert.Equal(2, text.Samples.Count(s => s.Name == "tokenmetrics_cost_total"));
        Assert.Equal("counter", text.Types["tokenmetrics_unpriced_calls_total"]);
        Assert.Equal(1, text.Value("tokenmetrics_unpriced_calls_total", gpt));
        Assert.Single(text.Samples, s => s.Name == "tokenmetrics_unpriced_calls_total");
    }

    [Fact]
    public void GetText_HostileLabelValues_AreEscapedAndRoundTrip()
    {
        const string hostile = "evil\\model\"}\n# TYPE x counter\nx{a=\"1\"} 1,le=\"=ü€😀";
        var metrics = new TokenMetricsPrometheus(new PrometheusExporterOptions { IncludeConsumer = true, MaxLabelValueLength = 1000 });
        metrics.Record([Records.Chat(model: hostile, consumer: "tenant \"a\"\\b")]);

        var raw = metrics.GetText();
        var text = PrometheusText.Parse(raw);

        Assert.Equal(100, text.Value("tokenmetrics_tokens_total", ("model", hostile), ("consumer", "tenant \"a\"\\b"), ("token_type", "input")));
        Assert.DoesNotContain("\n# TYPE x", raw, StringComparison.Ordinal);
        Assert.Contains("model=\"evil\\\\model\\\"}\\n# TYPE x counter\\nx{a=\\\"1\\\"} 1,le=\\\"=ü€😀\"", raw, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyModel_IsLabelledUnknown_AsDocumented()
    {
        var metrics = new TokenMetricsPrometheus();
        metrics.Record([
            Records.Chat(model: string.Empty, input: 1, output: 1) with { ResponseModel = null },
            Records.Chat(model: string.Empty, input: 2, output: 1) with { ResponseModel = string.Empty, Provider = string.Empty },
            Records.Chat(model: string.Empty, input: 4, output: 1) with { ResponseModel = "gpt-4o-2024-08-06" },
        ]);

        var raw = metrics.GetText();
        var text = PrometheusText.Parse(raw);

        Assert.DoesNotContain("model=\"\"", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("provider=\"\"", raw, StringComparison.Ordinal);
        Assert.Equal(1, text.Value("tokenmetrics_tokens_total", ("model", "unknown"), ("provider", "openai"), ("token_type", "input")));
        Assert.Equal(2, text.Value("tokenmetrics_tokens_total", ("model", "unknown"), ("provider", "unknown"), ("token_type", "input")));
        Assert.Equal(2, text.Samples.Where(s => s.Name == "tokenmetrics_calls_total" && s.Labels["model"] == "unknown").Sum(s => s.Value));
        Assert.Equal(4, text.Value("tokenmetrics_tokens_total", ("model", "gpt-4o-2024-08-06"), ("token_type", "input")));
    }

    [Fact]
    public void MetricPrefix_IsSanitised()
    {
        var metrics = new TokenMetricsPrometheus(new PrometheusExporterOptions { MetricPrefix = "9my-app.llm" });
        metrics.Record([Records.Chat()]);
        var text = PrometheusText.Parse(metrics.GetText());
        Assert.Equal(100, text.Value("_9my_app_llm_tokens_total", ("token_type", "input")));
    }

    [Fact]
    public void CardinalityGuard_RoutesOverflowToOther_AndCountsIt()
    {
        var metrics = new TokenMetricsPrometheus(new PrometheusExporterOptions { MaxSeriesPerMetric = 3 });
        metrics.Record(Enumerable.Range(0, 10).Select(i => Records.Chat(model: $"model-{i}", input: 10, output: 1)).ToList());

        var text = PrometheusText.Parse(metrics.GetText());
        var calls = text.Samples.Where(s => s.Name == "tokenmetrics_calls_total").ToList();
        Assert.Equal(4, calls.Count); // 3 real series + the overflow series
        Assert.Equal(10, calls.Sum(s => s.Value)); // totals stay right
        Assert.Equal(7, text.Value("tokenmetrics_calls_total", ("model", "other"), ("provider", "other"), ("status", "other")));
        Assert.Equal(7, text.Value("tokenmetrics_series_overflow_total", ("metric", "tokenmetrics_calls_total")));

        // tokens_total: 3 series fit (model-0 input, model-0 output, model-1 input); token_type survives overflow.
        Assert.Equal(100, text.Samples.Where(s => s.Name == "tokenmetrics_tokens_total" && s.Labels["token_type"] == "input").Sum(s => s.Value));
        Assert.Equal(10, text.Samples.Where(s => s.Name == "tokenmetrics_tokens_total" && s.Labels["token_type"] == "output").Sum(s => s.Value));
        Assert.Equal(80, text.Value("tokenmetrics_tokens_total", ("model", "other"), ("token_type", "input")));
    }

    [Fact]
    public void Replays_AreCountedOnce()
    {
        var metrics = new TokenMetricsPrometheus();
        var record = Records.Chat();
        metrics.Record([record]);
        metrics.Record([record, record with { }]);

        var text = PrometheusText.Parse(metrics.GetText());
        Assert.Equal(1, text.Value("tokenmetrics_calls_total", ("model", "gpt-4o")));
        Assert.Equal(2, text.Value("tokenmetrics_duplicate_records_total"));
    }

    [Fact]
    public void InvalidOptions_FailAtStartUp()
    {
        var services = new ServiceCollection();
        services.AddTokenMetrics().AddPrometheusExporter(o => o.MaxSeriesPerMetric = 0);
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PrometheusExporterOptions>>().Value);
        Assert.Contains("MaxSeriesPerMetric", error.Message, StringComparison.Ordinal);
        Assert.Throws<OptionsValidationException>(() => new TokenMetricsPrometheus(new PrometheusExporterOptions { MetricPrefix = " " }));
    }

    [Fact]
    public async Task Promtool_CheckMetrics_Passes()
    {
        var promtool = Servers.RequireBinary("promtool", "prometheus");
        var metrics = new TokenMetricsPrometheus(new PrometheusExporterOptions { IncludeConsumer = true, MaxSeriesPerMetric = 5 });
        metrics.Record([
            Records.Chat(input: 100, output: 50, cached: 80, reasoning: 25, consumer: "team-a"),
            Records.Chat(model: "weird \"model\"\\\nname", input: 3, output: 2, streaming: true, consumer: "b"),
            Records.Chat(provider: "anthropic", model: "claude-sonnet-4", status: TokenUsageStatus.Cancelled, source: TokenUsageSource.Estimated),
            Records.Chat(source: TokenUsageSource.Missing, status: TokenUsageStatus.Truncated),
            .. Enumerable.Range(0, 10).Select(i => Records.Chat(model: $"m{i}")),
        ]);

        var info = new ProcessStartInfo(promtool) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("check");
        info.ArgumentList.Add("metrics");
        using var process = Process.Start(info)!;
        process.StandardInput.Write(metrics.GetText());
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"promtool check metrics exit {process.ExitCode}: {await stdout}{await stderr}");
    }
}
