namespace TokenMetrics.Providers.Tests.Anthropic;

/// <summary>A recorder with an in-memory exporter (copied from the core tests' helper: test projects do not reference each other).</summary>
public sealed class TestRecorder : IAsyncDisposable
{
    public TestRecorder()
    {
        var options = new TokenMetricsOptions { ExportInterval = TimeSpan.FromMilliseconds(20), MeterName = "TokenMetrics.Providers.Tests." + Guid.NewGuid().ToString("N") };
        Exporter = new InMemoryTokenUsageExporter();
        Recorder = new TokenUsageRecorder(options, [Exporter]);
    }

    public TokenUsageRecorder Recorder { get; }

    public InMemoryTokenUsageExporter Exporter { get; }

    /// <summary>Waits for the pipeline to hand everything to the exporter, then returns the records.</summary>
    public async Task<IReadOnlyList<TokenUsageRecord>> RecordsAsync(int atLeast = 0)
    {
        if (atLeast > 0)
        {
            _ = await Exporter.WaitForRecordsAsync(atLeast, TimeSpan.FromSeconds(10));
        }

        Assert.Equal(TokenMetricsFlushResult.Success, await Recorder.FlushAsync(TimeSpan.FromSeconds(10)));
        return Exporter.Records;
    }

    public ValueTask DisposeAsync() => Recorder.DisposeAsync();
}

/// <summary>Adds fixed headers (the mock's x-mock-* switches) below the metering handler, as a test-only transport detail.</summary>
internal sealed class HeaderHandler(HttpMessageHandler inner, params (string Name, string Value)[] headers) : DelegatingHandler(inner)
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        foreach (var (name, value) in headers)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
