using System.Text;

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
}
