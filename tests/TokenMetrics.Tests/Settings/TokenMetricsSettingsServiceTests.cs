using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using TokenMetrics.Internal;
using TokenMetrics.Tests.Delivery;
using TokenMetrics.Tests.TestHelpers;

namespace TokenMetrics.Tests.Settings;

public sealed class TokenMetricsSettingsServiceTests : IAsyncDisposable
{
    private static readonly ChatMessage[] Prompt = [new(ChatRole.User, "Say hello to the whole world, please")];
    private readonly FakeLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggerFactory;

    public TokenMetricsSettingsServiceTests() => _loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));

    public ValueTask DisposeAsync()
    {
        _loggerFactory.Dispose();
        _logs.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public void Constructor_NullRecorder_Throws() =>
        Assert.Throws<ArgumentNullException>("recorder", () => new TokenMetricsSettingsService(null!));

    [Fact]
    public async Task Update_NullArguments_Throw()
    {
        await using var t = new TestRecorder();
        using var service = new TokenMetricsSettingsService(t.Recorder);
        Assert.Throws<ArgumentNullException>("change", () => service.Update((Func<TokenMetricsSettings, TokenMetricsSettings>)null!));
        Assert.Throws<ArgumentNullException>("settings", () => service.Update((TokenMetricsSettings)null!));
    }

    [Fact]
    public async Task Enabled_SwitchedOffAtRunTime_NextCallIsNotMetered_OnBothLayers_AndOnAgain()
    {
        await using var t = new TestRecorder();
        using var service = new TokenMetricsSettingsService(t.Recorder, _loggerFactory);
        using var http = t.CreateClient(StubHttpHandler.Returning((_, _) => StubHttpHandler.Json(OpenAIFixtures.ChatCompletionJson())));
        using var chat = new TokenMetricsChatClient(ReportingClient(), t.Recorder);

        await CallHttpAsync(http);
        _ = await chat.GetResponseAsync(Prompt);
        Assert.Equal(2, (await t.RecordsAsync(2)).Count);

        Assert.True(service.Update(s => s with { Enabled = false }, "maintenance").Succeeded);
        await CallHttpAsync(http);
        _ = await chat.GetResponseAsync(Prompt);
        Assert.Equal(2, (await t.RecordsAsync()).Count);
        Assert.Equal(2, t.Recorder.GetStatistics().Received);

        Assert.True(service.Update(s => s with { Enabled = true }).Succeeded);
        await CallHttpAsync(http);
        _ = await chat.GetResponseAsync(Prompt);
        Assert.Equal(4, (await t.RecordsAsync(4)).Count);
    }

    [Fact]
    public async Task EstimateMissingUsage_SwitchedOffAtRunTime_NextCallIsMissing_NotEstimated()
    {
        await using var t = new TestRecorder();
        using var service = new TokenMetricsSettingsService(t.Recorder);
        using var chat = new TokenMetricsChatClient(SilentClient(), t.Recorder);

        _ = await chat.GetResponseAsync(Prompt);
        Assert.Equal(TokenUsageSource.Estimated, Assert.Single(await t.RecordsAsync(1)).Source);

        Assert.True(service.Update(s => s with { EstimateMissingUsage = false }).Succeeded);
        _ = await chat.GetResponseAsync(Prompt);
        var second = (await t.RecordsAsync(2))[1];
        Assert.Equal(TokenUsageSource.Missing, second.Source);
        Assert.Null(second.Usage.InputTokenCount);
    }

    [Fact]
    public async Task CaptureContent_ChangedAtRunTime_IsWhatTheNextCallReads()
    {
        await using var t = new TestRecorder();
        using var service = new TokenMetricsSettingsService(t.Recorder);
        Assert.False(t.Recorder.Settings.CaptureContent);

        var result = service.Update(s => s with { CaptureContent = true });

        Assert.True(result.Succeeded);
        Assert.True(t.Recorder.Settings.CaptureContent);
        Assert.Same(t.Recorder.Settings, service.Current);
        Assert.Same(service.Current, result.Settings);
        Assert.Equal(1, result.Version);
    }

    [Fact]
    public async Task SamplingZero_AtRunTime_NothingIsExported_AndEveryRecordIsCounted_ThenOneExportsAgain()
    {
        await using var t = new TestRecorder();
        using var service = new TokenMetricsSettingsService(t.Recorder);
        using var meter = new MetricCollector<long>(t.Recorder.Meter, "tokenmetrics.records.sampled_out");

        Assert.True(service.Update(s => s with { SamplingRatio = 0 }).Succeeded);
        for (var i = 0; i < 10; i++)
        {
            t.Recorder.Record(TokenUsageRecorderTests.NewRecord(i));
        }

        Assert.Empty(await t.RecordsAsync());
        var stats = t.Recorder.GetStatistics();
        Assert.Equal(10, stats.Received);
        Assert.Equal(10, stats.SampledOut);
        Assert.Equal(0, stats.Exporters[nameof(InMemoryTokenUsageExporter)].Enqueued);
        meter.RecordObservableInstruments();
        Assert.Equal(10, meter.LastMeasurement!.Value);

        Assert.True(service.Update(s => s with { SamplingRatio = 1 }).Succeeded);
        t.Recorder.Record(TokenUsageRecorderTests.NewRecord(99));
        Assert.Equal(99, Assert.Single(await t.RecordsAsync(1)).Usage.InputTokenCount);
        Assert.Equal(10, t.Recorder.GetStatistics().SampledOut);
    }

    [Fact]
    public async Task SamplingRatioInOptions_WithoutDependencyInjection_IsTheFixedSnapshot()
    {
        await using var t = new TestRecorder(o => o.SamplingRatio = 0);
        t.Recorder.Record(TokenUsageRecorderTests.NewRecord());
        Assert.Empty(await t.RecordsAsync());
        Assert.Equal(1, t.Recorder.GetStatistics().SampledOut);
    }

    [Fact]
    public async Task Exporter_SwitchedOffThenOn_ItsRecordsAreSkippedAndCounted_TheOthersGetEverything()
    {
        var other = new List<TokenUsageRecord>();
        var counting = new DelegateExporter((batch, _) =>
        {
            lock (other)
            {
                other.AddRange(batch);
            }

            return Task.FromResult(TokenUsageExportResult.Success);
        });
        await using var t = new TestRecorder(null, counting);
        using var service = new TokenMetricsSettingsService(t.Recorder);
        Assert.Equal([nameof(InMemoryTokenUsageExporter), nameof(DelegateExporter)], service.ExporterNames);

        // Names compare ignoring case; the snapshot keeps the pipeline's spelling.
        var result = service.Update(s => s with { DisabledExporters = new HashSet<string> { "delegateexporter" } });
        Assert.True(result.Succeeded);
        Assert.Equal([nameof(DelegateExporter)], result.Settings.DisabledExporters!);
        for (var i = 0; i < 3; i++)
        {
            t.Recorder.Record(TokenUsageRecorderTests.NewRecord(i));
        }

        Assert.Equal(3, (await t.RecordsAsync(3)).Count);
        lock (other)
        {
            Assert.Empty(other);
        }

        var skipped = t.Recorder.GetStatistics().Exporters[nameof(DelegateExporter)];
        Assert.Equal(3, skipped.Skipped);
        Assert.Equal(0, skipped.Enqueued);
        Assert.Equal(0, skipped.Dropped);
        Assert.Equal(0, t.Recorder.GetStatistics().Exporters[nameof(InMemoryTokenUsageExporter)].Skipped);

        Assert.True(service.Update(s => s with { DisabledExporters = null }).Succeeded);
        t.Recorder.Record(TokenUsageRecorderTests.NewRecord(7));
        Assert.Equal(4, (await t.RecordsAsync(4)).Count);
        lock (other)
        {
            Assert.Equal(7, Assert.Single(other).Usage.InputTokenCount);
        }

        Assert.Equal(3, t.Recorder.GetStatistics().Exporters[nameof(DelegateExporter)].Skipped);
    }

    [Fact]
    public async Task Update_Invalid_IsRejectedWhole_WithEveryError_AndNothingApplied()
    {
        await using var t = new TestRecorder();
        using var service = new TokenMetricsSettingsService(t.Recorder, _loggerFactory);
        var before = service.Current;

        var result = service.Update(
            s => s with
            {
                Enabled = false, // valid on its own: must not be applied either
                SamplingRatio = 1.5,
                DisabledExporters = new HashSet<string> { "NoSuchExporter" },
                PriceOverrides = new Dictionary<string, TokenUsagePrice>
                {
                    ["gpt-x"] = new() { Input = -1m, Output = 2m },
                    ["free"] = new(),
                    ["eur"] = new() { Input = 1m, Currency = "euro" },
                },
            },
            "bad patch");

        Assert.False(result.Succeeded);
        Assert.Equal(5, result.Errors.Count);
        Assert.Contains(result.Errors, e => e.Contains("SamplingRatio", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Contains("'NoSuchExporter'", StringComparison.Ordinal) && e.Contains(nameof(InMemoryTokenUsageExporter), StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Contains("['gpt-x'].Input must not be negative", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Contains("['free']: sets no price", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Contains("['eur'].Currency", StringComparison.Ordinal));
        Assert.Same(before, service.Current);
        Assert.Same(before, result.Settings);
        Assert.True(t.Recorder.Settings.Enabled);
        Assert.Equal(0, service.Version);
        var log = Assert.Single(_logs.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, log.Level);
        Assert.Contains("rejected, nothing applied", log.Message, StringComparison.Ordinal);
        Assert.Contains("bad patch", log.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-0.01)]
    public async Task Update_SamplingRatioNotInZeroToOne_IsRejected(double ratio)
    {
        await using var t = new TestRecorder();
        using var service = new TokenMetricsSettingsService(t.Recorder);
        var result = service.Update(s => s with { SamplingRatio = ratio });
        Assert.False(result.Succeeded);
        Assert.Equal(1.0, service.Current.SamplingRatio);
    }

    [Fact]
    public async Task Update_ChangeThatThrowsOrReturnsNull_IsRejected_NotThrown()
    {
        await using var t = new TestRecorder();
        using var service = new TokenMetricsSettingsService(t.Recorder);
        var threw = service.Update(_ => throw new InvalidOperationException("boom"));
        var none = service.Update(_ => null!);
        Assert.False(threw.Succeeded);
        Assert.Contains("boom", Assert.Single(threw.Errors), StringComparison.Ordinal);
        Assert.False(none.Succeeded);
        Assert.Equal(TokenMetricsSettings.Default, t.Recorder.Settings);
        Assert.Equal(0, service.Version);
    }

    [Fact]
    public async Task Update_CopiesCollections_SoLaterChangesToTheCallersSetChangeNothing()
    {
        await using var t = new TestRecorder(null, new DelegateExporter((_, _) => Task.FromResult(TokenUsageExportResult.Success)));
        using var service = new TokenMetricsSettingsService(t.Recorder);
        var names = new HashSet<string> { nameof(DelegateExporter) };
        var prices = new Dictionary<string, TokenUsagePrice> { ["GPT-4o"] = new() { Input = 2.5m, Output = 10m } };
        Assert.True(service.Update(s => s with { DisabledExporters = names, PriceOverrides = prices }).Succeeded);

        names.Add(nameof(InMemoryTokenUsageExporter));
        prices["gpt-4o"] = new() { Input = 0m };

        Assert.Equal([nameof(DelegateExporter)], service.Current.DisabledExporters!);
        Assert.Equal(2.5m, service.Current.PriceOverrides!["gpt-4o"].Input); // keys compare ignoring case
    }

    [Fact]
    public async Task EveryChange_IsLogged_WithOldAndNewValues_AndTheReason_AndRaisesChanged()
    {
        await using var t = new TestRecorder(null, new DelegateExporter((_, _) => Task.FromResult(TokenUsageExportResult.Success)));
        using var service = new TokenMetricsSettingsService(t.Recorder, _loggerFactory);
        var events = new List<TokenMetricsSettingsChangedEventArgs>();
        service.Changed += (_, e) => throw new InvalidOperationException("a broken handler");
        service.Changed += (sender, e) =>
        {
            Assert.Same(service, sender);
            events.Add(e);
        };

        Assert.True(service.Update(s => s with { SamplingRatio = 0.5, CaptureContent = true }, "ops: load test\nFORGED LINE").Succeeded);
        Assert.True(service.Update(s => s with
        {
            DisabledExporters = new HashSet<string> { nameof(DelegateExporter) },
            PriceOverrides = new Dictionary<string, TokenUsagePrice> { ["my-model"] = new() { Input = 1.25m, Output = 5m } },
        }).Succeeded);
        Assert.True(service.Update(s => s).Succeeded); // no change: nothing logged, no event, same version
        Assert.True(service.Reset("done").Succeeded);

        var logs = _logs.Collector.GetSnapshot();
        Assert.Equal(3, logs.Count);
        Assert.All(logs, l => Assert.Equal(LogLevel.Information, l.Level));
        Assert.Contains("by Update (version 1): CaptureContent: False -> True; SamplingRatio: 1 -> 0.5. Reason: ops: load test FORGED LINE", logs[0].Message, StringComparison.Ordinal);
        Assert.Contains("DisabledExporters: [] -> [DelegateExporter]; PriceOverrides: my-model added {in 1.25, out 5 USD/1M}", logs[1].Message, StringComparison.Ordinal);
        Assert.Contains("by Reset (version 3)", logs[2].Message, StringComparison.Ordinal);
        Assert.Contains("SamplingRatio: 0.5 -> 1", logs[2].Message, StringComparison.Ordinal);
        Assert.Contains("PriceOverrides: my-model {in 1.25, out 5 USD/1M} -> removed", logs[2].Message, StringComparison.Ordinal);
        Assert.Contains("Reason: done", logs[2].Message, StringComparison.Ordinal);

        Assert.Equal([TokenMetricsSettingsChangeSource.Update, TokenMetricsSettingsChangeSource.Update, TokenMetricsSettingsChangeSource.Reset], events.Select(e => e.Source));
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.Version));
        Assert.Equal(0.5, events[0].Current.SamplingRatio);
        Assert.Equal(1.0, events[0].Previous.SamplingRatio);
        Assert.Equal("ops: load test FORGED LINE", events[0].Reason);
        Assert.Equal(3, t.Recorder.GetStatistics().CallbackFailures); // the broken handler, once per change, fenced
        Assert.Equal(TokenMetricsSettings.Default, service.Current);
    }

    [Fact]
    public async Task UnknownExporterInOptions_FailsAtStartUp()
    {
        var ex = Assert.Throws<ValidationException>(() => new TestRecorder(o => o.DisabledExporters.Add("Nope")));
        Assert.Contains("'Nope'", ex.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task ConfigurationReload_IsFollowed_RuntimeOverridesWinPerFieldUntilReset_InvalidReloadsAreRejectedAndLogged()
    {
        var config = new ConfigurationManager();
        config.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TokenMetrics:MeterName"] = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N"),
            ["TokenMetrics:ExportInterval"] = "00:00:00.020",
        });
        var services = new ServiceCollection();
        services.AddSingleton(_loggerFactory);
        services.AddTokenMetrics(config.GetSection("TokenMetrics")).AddExporter(_ => new InMemoryTokenUsageExporter());
        await using var provider = services.BuildServiceProvider();
        var service = provider.GetRequiredService<TokenMetricsSettingsService>();
        var recorder = provider.GetRequiredService<TokenUsageRecorder>();
        Assert.Same(recorder.Settings, service.Current);

        // A reload is applied and logged as a configuration change.
        Reload(config, ("SamplingRatio", "0.25"), ("CaptureContent", "true"));
        Assert.Equal(0.25, recorder.Settings.SamplingRatio);
        Assert.True(recorder.Settings.CaptureContent);
        Assert.Contains(_logs.Collector.GetSnapshot(), l => l.Message.Contains("by Configuration (version 1): CaptureContent: False -> True; SamplingRatio: 1 -> 0.25", StringComparison.Ordinal));

        // A runtime update overrides the fields it changed; the others keep following configuration.
        Assert.True(service.Update(s => s with { Enabled = false, SamplingRatio = 0.5 }, "incident").Succeeded);
        Reload(config, ("Enabled", "true"), ("SamplingRatio", "0.75"), ("CaptureContent", "false"), ("EstimateMissingUsage", "false"));
        Assert.False(recorder.Settings.Enabled);
        Assert.Equal(0.5, recorder.Settings.SamplingRatio);
        Assert.False(recorder.Settings.CaptureContent);
        Assert.False(recorder.Settings.EstimateMissingUsage);
        Assert.Contains(_logs.Collector.GetSnapshot(), l => l.Message.Contains("configuration changed SamplingRatio, which runtime updates override until Reset", StringComparison.Ordinal));

        // An invalid reload (out of range, or an unknown exporter) is rejected whole and logged; nothing throws out of Reload.
        var version = service.Version;
        Reload(config, ("SamplingRatio", "5"), ("EstimateMissingUsage", "true"));
        Reload(config, ("SamplingRatio", "0.75"), ("EstimateMissingUsage", "true"), ("DisabledExporters:0", "Nope"));
        Assert.Equal(version, service.Version);
        Assert.False(recorder.Settings.EstimateMissingUsage);
        var rejected = _logs.Collector.GetSnapshot().Where(l => l.Level == LogLevel.Warning).ToList();
        Assert.Equal(2, rejected.Count);
        Assert.Contains("Configuration rejected, nothing applied", rejected[0].Message, StringComparison.Ordinal);
        Assert.Contains("SamplingRatio", rejected[0].Message, StringComparison.Ordinal);
        Assert.Contains("'Nope'", rejected[1].Message, StringComparison.Ordinal);

        // Reset: configuration again, for every field.
        Reload(config, ("DisabledExporters:0", "inmemorytokenusageexporter"));
        Assert.Equal([nameof(InMemoryTokenUsageExporter)], recorder.Settings.DisabledExporters!);
        Assert.True(service.Reset().Succeeded);
        Assert.True(recorder.Settings.Enabled);
        Assert.Equal(0.75, recorder.Settings.SamplingRatio);
        Assert.Equal(service.Configured, recorder.Settings);
    }

    [Fact]
    public async Task AddTokenMetrics_RegistersOneService_CreatedWithTheHost()
    {
        var services = new ServiceCollection();
        services.AddTokenMetrics(o => o.MeterName = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N"));
        services.AddTokenMetrics();
        await using var provider = services.BuildServiceProvider();
        Assert.Single(services, d => d.ServiceType == typeof(TokenMetricsSettingsService));
        Assert.Same(provider.GetRequiredService<TokenMetricsSettingsService>(), provider.GetRequiredService<TokenMetricsSettingsService>());
        Assert.NotNull(provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<TokenMetricsHostedService>().Single());
    }

    [Fact]
    public async Task UpdatesRacingWithCallsAndReloads_NeverProduceATornSnapshot()
    {
        var config = new ConfigurationManager();
        config.AddInMemoryCollection(new Dictionary<string, string?> { ["TokenMetrics:MeterName"] = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N") });
        var services = new ServiceCollection();
        services.AddTokenMetrics(config.GetSection("TokenMetrics")).AddExporter(_ => new InMemoryTokenUsageExporter());
        await using var provider = services.BuildServiceProvider();
        var service = provider.GetRequiredService<TokenMetricsSettingsService>();
        var recorder = provider.GetRequiredService<TokenUsageRecorder>();

        // Two consistent states; every field differs between them, so a mix of the two is visible.
        var a = new TokenMetricsSettings { Enabled = true, EstimateMissingUsage = true, CaptureContent = true, SamplingRatio = 1.0 };
        var b = new TokenMetricsSettings { Enabled = false, EstimateMissingUsage = false, CaptureContent = false, SamplingRatio = 0.0 };
        static bool Consistent(TokenMetricsSettings s) =>
            s.Enabled == s.EstimateMissingUsage && s.Enabled == s.CaptureContent && s.SamplingRatio == (s.Enabled ? 1.0 : 0.0);

        // From the defaults, b then a changes every field once: all four are runtime overrides before the race starts, so
        // configuration reloads during the race may only be shadowed, and any mix of a and b read below is a torn snapshot.
        Assert.True(service.Update(b).Succeeded);
        Assert.True(service.Update(a).Succeeded);
        Assert.True(Consistent(recorder.Settings));

        var torn = 0;
        var stop = 0;
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var reads = 0;
            while (Volatile.Read(ref stop) == 0 && reads++ < 5_000_000)
            {
                if (!Consistent(recorder.Settings))
                {
                    Interlocked.Increment(ref torn);
                }

                recorder.Record(TokenUsageRecorderTests.NewRecord()); // sampling reads the snapshot too
            }
        })).ToArray();
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < 2_000; i++)
            {
                Assert.True(service.Update((i + w) % 2 == 0 ? a : b).Succeeded);
            }
        })).Append(Task.Run(() =>
        {
            // Configuration reloads of the same fields race too; once a field is overridden they only shadow it.
            for (var i = 0; i < 300; i++)
            {
                Reload(config, ("SamplingRatio", i % 2 == 0 ? "0.5" : "0.25"), ("CaptureContent", i % 2 == 0 ? "true" : "false"));
            }
        })).ToArray();

        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromMinutes(2));
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(0, torn);
        Assert.True(Consistent(service.Current));
        Assert.Equal(TokenMetricsSettingsRules.Field.Enabled | TokenMetricsSettingsRules.Field.EstimateMissingUsage | TokenMetricsSettingsRules.Field.CaptureContent | TokenMetricsSettingsRules.Field.SamplingRatio,
            TokenMetricsSettingsRules.Diff(a, b));
    }

    [Fact]
    public void Sampling_IsDecidedPerRecordId_StableAndMonotonic_AndSpreadsEvenly()
    {
        var ids = Enumerable.Range(0, 20_000).Select(_ => Guid.CreateVersion7()).ToArray();
        var kept = ids.Count(id => !TokenUsageSampling.IsSampledOut(id, 0.3));

        // Same id, same answer (a replay agrees); kept at 0.3 means kept at any higher ratio.
        Assert.All(ids.Take(2_000), id => Assert.Equal(TokenUsageSampling.IsSampledOut(id, 0.3), TokenUsageSampling.IsSampledOut(id, 0.3)));
        Assert.All(ids.Where(id => !TokenUsageSampling.IsSampledOut(id, 0.3)), id => Assert.False(TokenUsageSampling.IsSampledOut(id, 0.6)));
        Assert.InRange(kept, 5_400, 6_600); // 30% of 20,000 is 6,000; sequential v7 ids share their timestamp bits
        Assert.All(ids.Take(100), id => Assert.False(TokenUsageSampling.IsSampledOut(id, 1.0)));
        Assert.All(ids.Take(100), id => Assert.True(TokenUsageSampling.IsSampledOut(id, 0.0)));
    }

    private static void Reload(ConfigurationManager config, params (string Key, string Value)[] values)
    {
        foreach (var (key, value) in values)
        {
            config["TokenMetrics:" + key] = value;
        }

        ((IConfigurationRoot)config).Reload();
    }

    private static async Task CallHttpAsync(HttpClient http)
    {
        using var response = await http.PostAsync("chat/completions", new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"));
        _ = await response.Content.ReadAsStringAsync();
    }

    private static TestChatClient ReportingClient() => new()
    {
        GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hello")) { ModelId = "gpt-4o-mini", Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 2 } }),
    };

    private static TestChatClient SilentClient() => new()
    {
        GetResponseAsyncCallback = (_, _, _) => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hello to the whole world!")) { ModelId = "gpt-4o-mini" }),
    };
}
