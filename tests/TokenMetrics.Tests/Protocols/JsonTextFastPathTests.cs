using System.Buffers;
using System.Text;

namespace TokenMetrics.Tests.Protocols;

/// <summary>The search-based fast paths of <see cref="JsonText"/> and <see cref="JsonCursor"/> against the full reader paths they
/// stand in for: wherever a fast path answers, it must give what the full path gives.</summary>
public class JsonTextFastPathTests
{
    // Trailing "usage":null as OpenAI writes it, and variants around it (whitespace, escapes, nesting, duplicates, strings that
    // contain the member's bytes). Every one valid JSON.
    public static TheoryData<string, bool> UsageNullCases => new()
    {
        { "{\"id\":\"a\",\"usage\":null}", true },
        { "{\"id\":\"a\" , \"usage\":null }  ", true },
        { "{\"id\":\"a\",\n\t\"usage\":null\r\n}", true },
        { "{\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"usage\":null}", true },
        { "{\"n\":12,\"usage\":null}", true },
        { "{\"n\":true,\"usage\":null}", true },
        { "{\"s\":\"ends in a backslash \\\\\",\"usage\":null}", true },
        { "{\"s\":\"text with \\\"usage\\\":null in it\",\"usage\":null}", true },
        { "{\"s\":\"\\\"usage\\\":null\"}", false },
        { "{\"usage\":null}", false },
        { "{\"usage\":null,\"id\":\"a\"}", false },
        { "{\"a\":{\"b\":1,\"usage\":null}}", false },
        { "{\"a\":{\"usage\":null}}", false },
        { "{\"a\":[1,{\"usage\":null}],\"usage\":null}", false },
        { "{\"usage\":null,\"a\":1,\"usage\":null}", false },
        { "{\"usage\":{\"x\":1},\"usage\":null}", false },
        { "{\"us\\u0061ge\":null,\"usage\":null}", false },
        { "{\"id\":\"a\",\"usage\": null}", false },
        { "{\"id\":\"a\",\"usage\":nullx}", false },
    };

    [Theory]
    [MemberData(nameof(UsageNullCases))]
    public void TryFindLastNullProperty_CutsWhatTheFullPathRemoves(string json, bool fast)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var full = new ArrayBufferWriter<byte>();
        var removed = JsonText.TryRemoveTopLevelNullProperty(bytes, "usage"u8, full);

        var found = JsonText.TryFindLastNullProperty(bytes, "\"usage\":null"u8, out var cutStart, out var cutEnd);

        Assert.Equal(fast, found);
        if (found)
        {
            Assert.True(removed);
            var cut = Encoding.UTF8.GetString(bytes.AsSpan(0, cutStart)) + Encoding.UTF8.GetString(bytes.AsSpan(cutEnd));
            Assert.Equal(Encoding.UTF8.GetString(full.WrittenSpan), cut);
        }
    }

    [Theory]
    [InlineData("{\"a\":\"x\"}", 5, true)]
    [InlineData("{\"a\":\"x\\\"\"}", 8, false)]
    [InlineData("{\"a\":\"x\\\\\"}", 9, true)]
    [InlineData("{\"a\":\"x\\\\\\\"\"}", 10, false)]
    [InlineData("\"", 0, true)]
    public void IsDelimiterQuote_CountsTheBackslashesBefore(string json, int at, bool expected)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.Equal((byte)'"', bytes[at]);
        Assert.Equal(expected, JsonText.IsDelimiterQuote(bytes, at));
    }

    [Fact]
    public void IndexOfQuoted_SkipsEscapedMatches()
    {
        var json = "{\"t\":\"say \\\"k\",\"k\":1,\"k\":2}"u8;

        var first = JsonText.IndexOfQuoted(json, "\"k\""u8);
        var last = JsonText.LastIndexOfQuoted(json, "\"k\""u8);

        Assert.Equal(json.IndexOf(",\"k\":1"u8) + 1, first);
        Assert.Equal(json.IndexOf(",\"k\":2"u8) + 1, last);
        Assert.Equal(-1, JsonText.IndexOfQuoted("{\"t\":\"\\\"k\"}"u8, "\"k\""u8));
        Assert.Equal(-1, JsonText.LastIndexOfQuoted("{\"t\":\"\\\"k\"}"u8, "\"k\""u8));
    }

    [Theory]
    [InlineData("{\"a\":\"\\u00e9\\u003c\"}", false)]
    [InlineData("{\"\\u0061\":1}", true)]
    [InlineData("{\"\\u004D\":1}", true)]
    [InlineData("{\"a\":\"cut \\u00", true)]
    [InlineData("{\"a\":\"plain\"}", false)]
    public void MayHaveEscapedLetter_FindsEscapesThatSpellNames(string json, bool expected)
    {
        Assert.Equal(expected, JsonText.MayHaveEscapedLetter(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void JsonCursor_ReadsPlainValuesAndDeclinesTheRest()
    {
        var cursor = new JsonCursor(" { \"a\" : 120 , \"b\":\"x\\\"y\", \"c\":-1.5e3,\"d\":null,\"e\":[1] } "u8);
        Assert.True(cursor.Take((byte)'{'));
        Assert.True(cursor.TryReadName(out var name));
        Assert.Equal("a", Encoding.UTF8.GetString(name));
        Assert.True(cursor.TryReadCount(out var count));
        Assert.Equal(120, count);
        Assert.True(cursor.Take((byte)','));
        Assert.True(cursor.TryReadName(out _));
        Assert.True(cursor.TrySkipScalar());
        Assert.True(cursor.Take((byte)','));
        Assert.True(cursor.TryReadName(out _));
        Assert.True(cursor.TrySkipScalar());
        Assert.True(cursor.Take((byte)','));
        Assert.True(cursor.TryReadName(out _));
        Assert.True(cursor.TrySkipScalar());
        Assert.True(cursor.Take((byte)','));
        Assert.True(cursor.TryReadName(out _));
        Assert.False(cursor.TrySkipScalar());
        Assert.Equal((byte)'[', cursor.Peek());

        Assert.False(new JsonCursor("012"u8).TryReadCount(out _));
        Assert.False(new JsonCursor("1.0"u8).TryReadCount(out _));
        Assert.False(new JsonCursor("-1"u8).TryReadCount(out _));
        Assert.False(new JsonCursor("1234567890123456789"u8).TryReadCount(out _));
        Assert.True(new JsonCursor("0}"u8).TryReadCount(out var zero) && zero == 0);
        Assert.False(new JsonCursor("\"a\\u0062\":"u8).TryReadName(out _));
        Assert.False(new JsonCursor("nul"u8).TrySkipScalar());
        Assert.False(new JsonCursor("\"open"u8).TrySkipScalar());
    }
}
