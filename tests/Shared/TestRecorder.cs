// Shared by the test projects (linked, not copied): see their .csproj files.

namespace TokenMetrics.Tests.Shared;

/// <summary>A recorder with an in-memory exporter, a short export interval and a meter name of its own (tests run in parallel).</summary>
public sealed class TestRecorder : IAsyncDisposable
{
    public TestRecorder(Action<TokenMetricsOptions>? configure = null, params ITokenUsageExporter[] extraExporters)
    {
        var options = new TokenMetricsOptions { ExportInterval = TimeSpan.FromMilliseconds(20), MeterName = "TokenMetrics.Tests." + Guid.NewGuid().ToString("N") };
        configure?.Invoke(options);
        Exporter = new InMemoryTokenUsageExporter();
        Recorder = new TokenUsageRecorder(options, [Exporter, .. extraExporters]);
    }

    public TokenUsageRecorder Recorder { get; }

    public InMemoryTokenUsageExporter Exporter { get; }

    public static ITokenUsageProtocol OpenAI => OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol();

    public HttpClient CreateClient(HttpMessageHandler primary, TokenMetricsHandlerOptions? options = null) =>
        new(new TokenMetricsHandler(Recorder, [OpenAI], primary, options)) { BaseAddress = new Uri("https://api.openai.com/v1/") };

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
