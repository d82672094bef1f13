using System.Text;
using TokenMetrics.Providers.OpenAI;

namespace TokenMetrics.Providers.Tests.OpenAI;

/// <summary>Details maps are read into per-thread scratch maps and handed out shared (one read-only instance per distinct
/// content): a later parse must never change a map an earlier usage already holds, and equal details must share one map.</summary>
public class OpenAIUsageSharedDetailsTests
{
    [Fact]
    public void A_later_parse_leaves_the_details_of_an_earlier_usage_unchanged()
    {
        var first = Parse("""{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":8,"audio_tokens":1},"completion_tokens_details":{"reasoning_tokens":2}}""");
        var second = Parse("""{"prompt_tokens":20,"completion_tokens":6,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":4,"audio_tokens":7}}""");

        Assert.Equal([new("cached_tokens", 8L), new("audio_tokens", 1L)], first.InputTokenDetails!.ToArray());
        Assert.Equal([new("reasoning_tokens", 2L)], first.OutputTokenDetails!.ToArray());
        Assert.Equal([new("cached_tokens", 3L)], second.InputTokenDetails!.ToArray());
        Assert.Equal([new("reasoning_tokens", 4L), new("audio_tokens", 7L)], second.OutputTokenDetails!.ToArray());
        Assert.Equal(8, first.CachedInputTokenCount);
        Assert.Equal(4, second.ReasoningTokenCount);
    }

    [Fact]
    public void Equal_details_share_one_map_and_different_ones_do_not()
    {
        const string Json = """{"prompt_tokens":10,"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}""";
        var a = Parse(Json);
        var b = Parse(Json);
        var c = Parse(Json.Replace("\"audio_tokens\":0", "\"audio_tokens\":9", StringComparison.Ordinal));

        Assert.Same(a.OutputTokenDetails, b.OutputTokenDetails);
        Assert.NotSame(a.OutputTokenDetails, c.OutputTokenDetails);
        Assert.Equal(0, a.OutputTokenDetails!["audio_tokens"]);
        Assert.Equal(9, c.OutputTokenDetails!["audio_tokens"]);
        Assert.Null(a.InputTokenDetails);
    }

    [Fact]
    public void Empty_details_objects_and_extras_only_usages_read_as_before()
    {
        var empty = Parse("""{"prompt_tokens":1,"completion_tokens":1,"prompt_tokens_details":{},"completion_tokens_details":{"kind":"x"}}""");
        Assert.Null(empty.InputTokenDetails);
        Assert.Null(empty.OutputTokenDetails);

        // DeepSeek: only top-level extras, merged with the details object when both are present.
        var deepSeek = Parse("""{"prompt_tokens":10,"completion_tokens":2,"prompt_cache_hit_tokens":4,"prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0}}""");
        Assert.Equal([new("cached_tokens", 4L), new("audio_tokens", 0L), new("prompt_cache_hit_tokens", 4L)], deepSeek.InputTokenDetails!.ToArray());
    }

    private static TokenUsage Parse(string json) => OpenAIUsage.Parse(Encoding.UTF8.GetBytes(json))!;
}
