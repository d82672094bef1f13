using System.Text;
using System.Text.Json;
using TokenMetrics.Internal;

namespace TokenMetrics.Tests.Protocols;

public sealed class Utf8StringCacheTests
{
    [Fact]
    public void Equal_values_share_one_string_until_the_cache_is_full_then_still_read_correctly()
    {
        var cache = new Utf8StringCache(maxEntries: 2);
        var a = Read(cache, "\"model-a\"");
        Assert.Same(a, Read(cache, "\"model-a\""));
        _ = Read(cache, "\"model-b\"");
        var c1 = Read(cache, "\"model-c\"");
        var c2 = Read(cache, "\"model-c\"");
        Assert.Equal("model-c", c1);
        Assert.Equal(c1, c2);
        Assert.NotSame(c1, c2);
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Escapes_non_ascii_empty_and_over_long_values_read_as_the_json_says()
    {
        var cache = new Utf8StringCache(maxEntries: 16);
        Assert.Equal("a\"b\\c\u00e9", Read(cache, "\"a\\\"b\\\\c\\u00e9\""));
        Assert.Equal("模型", Read(cache, "\"模型\""));
        Assert.Equal(string.Empty, Read(cache, "\"\""));
        var longValue = new string('x', Utf8StringCache.MaxChars + 1);
        Assert.Equal(longValue, Read(cache, "\"" + longValue + "\""));
        Assert.Null(Read(cache, "42"));
    }

    [Fact]
    public void Property_names_read_through_the_cache_too()
    {
        var cache = new Utf8StringCache(maxEntries: 16);
        var reader = new Utf8JsonReader("{\"cached_tokens\":1}"u8);
        reader.Read();
        reader.Read();
        var first = cache.Read(ref reader);
        Assert.Equal("cached_tokens", first);
        Assert.Same(first, Read(cache, "\"cached_tokens\""));
    }

    private static string? Read(Utf8StringCache cache, string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        reader.Read();
        return cache.Read(ref reader);
    }
}
