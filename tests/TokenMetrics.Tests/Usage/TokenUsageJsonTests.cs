using System.Text;
using TokenMetrics.Internal;

namespace TokenMetrics.Tests.Usage;

public class TokenUsageJsonTests
{
    [Fact]
    public void Record_RoundTrips_WithSnakeCaseNamesAndStringEnums()
    {
        var details = new TokenCountDictionary();
        details.Set("cached_tokens", 1024);
        var record = new TokenUsageRecord
        {
            Timestamp = new DateTimeOffset(2026, 11, 22, 3, 0, 0, TimeSpan.Zero),
            Provider = "openai",
            RequestModel = "gpt-4o",
            Status = TokenUsageStatus.Truncated,
            Source = TokenUsageSource.Estimated,
            Duration = TimeSpan.FromMilliseconds(1234),
            Usage = new TokenUsage { InputTokenCount = 1200, OutputTokenCount = 80, CachedInputTokenCount = 1024, InputTokenDetails = details },
            Tags = new Dictionary<string, string> { ["feature"] = "search" },
        };

        var json = TokenUsageJson.Serialize(record);
        var text = Encoding.UTF8.GetString(json);
        var back = TokenUsageJson.Deserialize(json)!;

        Assert.Contains("\"request_model\":\"gpt-4o\"", text, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"Truncated\"", text, StringComparison.Ordinal);
        Assert.Contains("\"cached_input_token_count\":1024", text, StringComparison.Ordinal);
        Assert.DoesNotContain("is_empty", text, StringComparison.Ordinal);
        Assert.DoesNotContain("user_id", text, StringComparison.Ordinal);
        Assert.Equal(record.Id, back.Id);
        Assert.Equal(record.Timestamp, back.Timestamp);
        Assert.Equal(record.Duration, back.Duration);
        Assert.Equal(1024, back.Usage.InputTokenDetails!["cached_tokens"]);
        Assert.Equal("search", back.Tags!["feature"]);
        Assert.Equal(TokenUsageStatus.Truncated, back.Status);
    }

    private static TokenUsageRecord PricedWithContent() => new()
    {
        Timestamp = new DateTimeOffset(2026, 11, 22, 3, 0, 0, TimeSpan.Zero),
        RequestModel = "gpt-4o-2024-08-06",
        Usage = new TokenUsage { InputTokenCount = 1234, OutputTokenCount = 56 },
        Cost = 0.0035850000000001234567m,   // 23 significant digits: a double would lose them
        Currency = "USD",
        PricedModel = "gpt-4o",
        Feature = "support-bot",
        Content = new TokenUsageContent
        {
            Question = "q\u0000\"x\"",
            Answer = "a",
            Reasoning = "r",
            ToolCalls = [new TokenUsageToolCall { Index = 2, Id = "call_1", Type = "function", Name = "lookup", Arguments = "{\"id\":7}" }],
        },
    };

    [Fact]
    public void CostFeatureAndContent_SnakeCaseShape_CostAsExactNumber()
    {
        var record = PricedWithContent();

        using var json = System.Text.Json.JsonDocument.Parse(TokenUsageJson.Serialize(record));
        var root = json.RootElement;
        Assert.Equal(System.Text.Json.JsonValueKind.Number, root.GetProperty("cost").ValueKind);
        Assert.Equal("0.0035850000000001234567", root.GetProperty("cost").GetRawText());
        Assert.Equal("USD", root.GetProperty("currency").GetString());
        Assert.Equal("gpt-4o", root.GetProperty("priced_model").GetString());
        Assert.Equal("support-bot", root.GetProperty("feature").GetString());
        var content = root.GetProperty("content");
        Assert.Equal("q\u0000\"x\"", content.GetProperty("question").GetString());
        Assert.Equal("a", content.GetProperty("answer").GetString());
        Assert.Equal("r", content.GetProperty("reasoning").GetString());
        var call = Assert.Single(content.GetProperty("tool_calls").EnumerateArray());
        Assert.Equal(2, call.GetProperty("index").GetInt32());
        Assert.Equal("call_1", call.GetProperty("id").GetString());
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("lookup", call.GetProperty("name").GetString());
        Assert.Equal("{\"id\":7}", call.GetProperty("arguments").GetString());

        // Unpriced and not captured: the fields are absent (never a 0 cost, never an empty content object).
        var plain = Encoding.UTF8.GetString(TokenUsageJson.Serialize(new TokenUsageRecord { Usage = new TokenUsage { InputTokenCount = 1 } }));
        foreach (var name in new[] { "\"cost\"", "\"currency\"", "\"priced_model\"", "\"feature\"", "\"content\"" })
        {
            Assert.DoesNotContain(name, plain, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Spool_RoundTripsCostAndContent_DecimalPrecisionKept()
    {
        var root = Path.Combine(Path.GetTempPath(), "tm-spool-cost-" + Guid.NewGuid().ToString("N"));
        try
        {
            var spool = TokenUsageSpool.Open(root, "store", 1 << 20);
            var record = PricedWithContent();
            var unpriced = new TokenUsageRecord { Usage = new TokenUsage { InputTokenCount = 1 } };
            Assert.True(spool.TryWrite([record, unpriced], TimeProvider.System));

            var back = spool.TryRead(Assert.Single(spool.ListFiles()));
            Assert.NotNull(back);
            Assert.Equal(2, back.Count);
            Assert.Equal(0.0035850000000001234567m, back[0].Cost);
            Assert.Equal(record.Cost.ToString(), back[0].Cost.ToString()); // scale kept too
            Assert.Equal("USD", back[0].Currency);
            Assert.Equal("gpt-4o", back[0].PricedModel);
            Assert.Equal("support-bot", back[0].Feature);
            Assert.Equal(Encoding.UTF8.GetString(TokenUsageJson.Serialize(record)), Encoding.UTF8.GetString(TokenUsageJson.Serialize(back[0])));
            Assert.Equal("q\u0000\"x\"", back[0].Content!.Question);
            Assert.Equal("lookup", Assert.Single(back[0].Content!.ToolCalls!).Name);
            Assert.Null(back[1].Cost);
            Assert.Null(back[1].Content);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
