using System.Text.Json;
using Microsoft.Data.Sqlite;
using TokenMetrics.Storage.Sqlite;

namespace TokenMetrics.Cli.Tests.Report;

public sealed class ReportLongSeriesTests
{
    [Fact]
    public async Task Hour_series_longer_than_a_store_page_still_shows_the_most_recent_hours()
    {
        var dir = Path.Combine(Path.GetTempPath(), "tm-cli-series-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "usage.db");
        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        const int Hours = TokenUsageFilter.MaxLimit + 50;
        try
        {
            await using (var store = new SqliteTokenUsageStore(new SqliteTokenUsageStoreOptions { DatabasePath = path }))
            {
                var records = Enumerable.Range(0, Hours).Select(h => new TokenUsageRecord
                {
                    Timestamp = start.AddHours(h).AddMinutes(7),
                    ResponseModel = "gpt-4o",
                    Usage = new TokenUsage { InputTokenCount = h, OutputTokenCount = 1, TotalTokenCount = h + 1 },
                    Source = TokenUsageSource.Reported,
                }).ToList();
                Assert.Equal(Hours, await store.WriteAsync(records, default));
            }

            var (code, output, error) = await GeneratedStore.RunAsync(
                "report", "--store", path, "--by", "hour", "--limit", "3", "--format", "json", "--from", "2025-01-01", "--to", start.AddHours(Hours).ToString("O"));
            Assert.True(code == 0, error);
            using var json = JsonDocument.Parse(output);
            var groups = json.RootElement.GetProperty("groups").EnumerateArray().ToList();
            Assert.Equal([start.AddHours(Hours - 3), start.AddHours(Hours - 2), start.AddHours(Hours - 1)], groups.Select(g => g.GetProperty("bucket").GetDateTimeOffset()));
            Assert.Equal([Hours - 3L, Hours - 2L, Hours - 1L], groups.Select(g => g.GetProperty("inputTokens").GetInt64()));
            Assert.Equal(Hours, json.RootElement.GetProperty("totals").GetProperty("calls").GetInt64());
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}
