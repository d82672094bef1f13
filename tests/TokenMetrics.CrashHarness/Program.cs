using System.Net.Http.Json;
using System.Text;
using TokenMetrics;

// Usage: produce SPOOL_DIR BACKEND_URL COUNT IDS_FILE | replay SPOOL_DIR BACKEND_URL
var mode = args[0];
var spool = args[1];
var backend = new Uri(args[2]);
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
var options = new TokenMetricsOptions
{
    SpoolDirectory = spool,
    ExportInterval = TimeSpan.FromMilliseconds(20),
    MaxExportBatchSize = 50,
    MaxRetryAttempts = 1,
    RetryBaseDelay = TimeSpan.FromMilliseconds(5),
    ReplayInterval = TimeSpan.FromMilliseconds(200),
    CircuitBreakDuration = TimeSpan.FromMilliseconds(500),
};
var recorder = new TokenUsageRecorder(options, [new PostExporter(http, backend)]);

if (mode == "produce")
{
    var count = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
    var ids = new StringBuilder();
    for (var i = 0; i < count; i++)
    {
        var record = new TokenUsageRecord { Provider = "openai", RequestModel = "gpt-4o-mini", Usage = new TokenUsage { InputTokenCount = i, OutputTokenCount = 1 }, Source = TokenUsageSource.Reported };
        ids.AppendLine(record.Id.ToString("N"));
        recorder.Record(record);
    }

    File.WriteAllText(args[4], ids.ToString());
    await recorder.FlushAsync(TimeSpan.FromSeconds(30));
    var stats = recorder.GetStatistics().Exporters.Values.Single();
    Console.WriteLine($"READY spilled={stats.Spilled} exported={stats.Exported} dropped={stats.Dropped}");

    // Wait to be killed: no shutdown, no flush, no dispose.
    await Task.Delay(Timeout.Infinite);
}
else
{
    // A fresh process: the spool is replayed at start-up.
    var deadline = DateTime.UtcNow.AddSeconds(60);
    while (DateTime.UtcNow < deadline)
    {
        var stats = recorder.GetStatistics().Exporters.Values.Single();
        if (stats.SpoolFiles == 0 && stats.Replayed > 0)
        {
            Console.WriteLine($"DONE replayed={stats.Replayed} corrupt={stats.CorruptSpoolFiles}");
            await recorder.DisposeAsync();
            return 0;
        }

        await Task.Delay(50);
    }

    Console.WriteLine("TIMEOUT");
    return 1;
}

return 0;

internal sealed class PostExporter(HttpClient http, Uri backend) : ITokenUsageExporter
{
    public async ValueTask<TokenUsageExportResult> ExportAsync(IReadOnlyList<TokenUsageRecord> batch, CancellationToken cancellationToken)
    {
        var ids = string.Join('\n', batch.Select(r => r.Id.ToString("N")));
        using var response = await http.PostAsync(backend, new StringContent(ids), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new TokenUsageExportException("backend returned " + (int)response.StatusCode, isTransient: true);
        }

        return TokenUsageExportResult.Success;
    }
}
