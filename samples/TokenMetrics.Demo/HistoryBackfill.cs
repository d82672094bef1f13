using System.Globalization;

namespace TokenMetrics.Demo;

/// <summary>Synthetic past records written straight to the store, so the dashboard's charts have days of shape on the first run.
/// They are made up (same users, tenants and models as the live load, priced from the shipped catalog) and tagged
/// <c>demo=history</c>; the live load's records are tagged <c>demo=live</c>.</summary>
internal static class HistoryBackfill
{
    public static readonly IReadOnlyDictionary<string, string> Tags = new Dictionary<string, string> { ["demo"] = "history" };

    /// <summary>Fills the last <paramref name="days"/> days up to half an hour ago, after the newest history record of an earlier
    /// run (so repeated runs do not pile up). Returns the line the demo prints about it.</summary>
    public static async Task<string> RunAsync(ITokenUsageStore store, int days, CancellationToken cancellationToken)
    {
        if (days <= 0)
        {
            return "History: none (--history-days 0).";
        }

        var now = DateTimeOffset.UtcNow;
        var to = now.AddMinutes(-30);
        var from = now.AddDays(-days);
        var newest = await store.QueryAsync(new TokenUsageQuery { From = from, Tags = Tags, Limit = 1 }, cancellationToken);
        if (newest.Records.Count > 0 && newest.Records[0].Timestamp.AddHours(1) > from)
        {
            from = newest.Records[0].Timestamp.AddHours(1);
        }

        var records = from < to ? Generate(new Random(), from, to) : [];
        for (var i = 0; i < records.Count; i += 500)
        {
            _ = await store.WriteAsync(records.GetRange(i, Math.Min(500, records.Count - i)), cancellationToken);
        }

        var kept = newest.Total;
        return records.Count == 0
            ? $"History: {kept.ToString(CultureInfo.InvariantCulture)} synthetic records of earlier runs kept (tag demo=history; not real calls)."
            : $"History: wrote {records.Count.ToString(CultureInfo.InvariantCulture)} synthetic records over the last {days.ToString(CultureInfo.InvariantCulture)} days"
                + (kept > 0 ? $" after {kept.ToString(CultureInfo.InvariantCulture)} kept from earlier runs" : string.Empty)
                + " (tag demo=history; not real calls, so the charts have a shape).";
    }

    private static List<TokenUsageRecord> Generate(Random random, DateTimeOffset from, DateTimeOffset to)
    {
        var records = new List<TokenUsageRecord>();
        for (var hour = new DateTimeOffset(from.Year, from.Month, from.Day, from.Hour, 0, 0, TimeSpan.Zero); hour < to; hour = hour.AddHours(1))
        {
            // Office hours (UTC) are busy, nights quiet, weekends half.
            var busy = hour.Hour is >= 8 and < 19 ? 5.0 : hour.Hour is >= 6 and < 22 ? 2.0 : 0.5;
            if (hour.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                busy /= 2;
            }

            var sessions = (int)Math.Round(busy * (0.5 + random.NextDouble()));
            for (var s = 0; s < sessions; s++)
            {
                AddSession(random, records, hour.AddSeconds(random.Next(3600)), from, to);
            }
        }

        return records;
    }

    private static void AddSession(Random random, List<TokenUsageRecord> records, DateTimeOffset start, DateTimeOffset from, DateTimeOffset to)
    {
        var user = random.Pick(DemoCast.Users);
        var route = random.Pick(user.Routes);
        var session = DemoCast.NewSessionId(random, user);
        var rounds = random.Next(1, 9);
        var time = start;
        for (var round = 0; round < rounds && time < to; round++)
        {
            if (time >= from)
            {
                records.Add(Record(random, user, route, session, round, time));
            }

            time = time.AddSeconds(random.Next(15, 120));
        }
    }

    private static TokenUsageRecord Record(Random random, DemoUser user, DemoRoute route, string session, int round, DateTimeOffset time)
    {
        var streaming = random.NextDouble() < 0.6;
        var roll = random.NextDouble();
        var status = roll < 0.02 ? TokenUsageStatus.Error : roll < 0.04 ? TokenUsageStatus.Cancelled : TokenUsageStatus.Ok;
        var input = 300 + random.Next(1200) + (round * 450);
        var output = status == TokenUsageStatus.Cancelled ? random.Next(5, 40) : 60 + random.Next(700);
        var reasoning = route.Reasoning && status == TokenUsageStatus.Ok ? 200 + random.Next(1800) : 0;
        var cached = round > 0 && route.Provider is "openai" or "anthropic" or "deepseek" ? input * random.Next(40, 80) / 100 : 0;
        var duration = TimeSpan.FromMilliseconds(400 + random.Next(600) + (output * 12) + (reasoning * 4));
        var usage = status == TokenUsageStatus.Error ? TokenUsage.Empty : new TokenUsage
        {
            InputTokenCount = input,
            OutputTokenCount = output + reasoning,
            TotalTokenCount = input + output + reasoning,
            CachedInputTokenCount = cached,
            ReasoningTokenCount = route.Reasoning ? reasoning : null,
        };
        var price = usage.IsEmpty ? null : TokenUsagePriceCatalog.Default.Resolve(route.VendorModel, route.Provider);
        var cost = price?.Entry.Price.ComputeCost(usage);
        return new TokenUsageRecord
        {
            Id = Guid.CreateVersion7(time),
            Timestamp = time,
            Provider = route.Provider,
            Operation = "chat",
            RequestModel = route.SdkModel,
            RoutedModel = route.Rewritten ? route.VendorModel : null,
            ResponseModel = status == TokenUsageStatus.Error ? null : route.VendorModel,
            IsStreaming = streaming,
            Status = status,
            ErrorType = status == TokenUsageStatus.Error ? "429" : null,
            HttpStatusCode = status == TokenUsageStatus.Error ? 429 : 200,
            Duration = status == TokenUsageStatus.Error ? TimeSpan.FromMilliseconds(40 + random.Next(100)) : duration,
            TimeToFirstChunk = streaming && status != TokenUsageStatus.Error ? TimeSpan.FromMilliseconds(150 + random.Next(500)) : null,
            Usage = usage,
            Source = status switch
            {
                TokenUsageStatus.Error => TokenUsageSource.Missing,
                TokenUsageStatus.Cancelled => TokenUsageSource.Estimated,
                _ => TokenUsageSource.Reported,
            },
            EstimationMethod = status == TokenUsageStatus.Cancelled ? "o200k_base" : null,
            UserId = user.Id,
            Consumer = user.Consumer,
            SessionId = session,
            Feature = user.Feature,
            Tags = Tags,
            Cost = cost,
            Currency = cost is null ? null : price!.Entry.Price.Currency,
            PricedModel = cost is null ? null : price!.Entry.Key,
            ClientName = user.Feature,
            Layer = TokenUsageLayer.Http,
        };
    }
}
