using FsCheck;
using FsCheck.Xunit;
using TokenMetrics.Internal;

namespace TokenMetrics.Tests.Content;

public class TextTruncationTests
{
    [Fact]
    public void ShortValue_IsUnchanged()
    {
        Assert.Equal("hello", TextTruncation.Truncate("hello", 5));
        Assert.Equal(string.Empty, TextTruncation.Truncate(string.Empty, 4));
    }

    [Fact]
    public void LongValue_KeepsHalfTheLimitAtEachEnd_WithTheHigressMarker()
    {
        Assert.Equal("abcd [truncated] wxyz", TextTruncation.Truncate("abcdefghijklmnopqrstuvwxyz", 8));
        var cut = TextTruncation.Truncate(new string('a', 3000) + new string('b', 3000), 4000);
        Assert.Equal(new string('a', 2000) + " [truncated] " + new string('b', 2000), cut);
    }

    [Fact]
    public void Cut_NeverSplitsASurrogatePair()
    {
        // 😀 is two chars; a cut inside it would leave a lone surrogate (invalid UTF-16, unencodable as UTF-8).
        var value = "ab😀cdefgh😀xy";
        var cut = TextTruncation.Truncate(value, 6);
        Assert.Equal("ab [truncated] xy", cut);
        Assert.DoesNotContain(cut, char.IsSurrogate);
    }

    /// <summary>However a text arrives in pieces, the bounded head/tail capture gives exactly what cutting the whole text gives.</summary>
    [Property(MaxTest = 300)]
    public void ContentText_FromAnyPieces_EqualsTruncatingTheWholeText(NonEmptyString[] pieces, PositiveInt limitSeed)
    {
        var limit = 16 + (limitSeed.Get % 200);
        using var recorder = ContentTestKit.NewRecorder(o => o.MaxLength = limit);
        var text = new ContentText(limit);
        var whole = new System.Text.StringBuilder();
        foreach (var piece in pieces)
        {
            // ASCII only: the property is about positions, surrogates are covered above.
            var ascii = new string(piece.Get.Select(c => (char)('a' + (c % 26))).ToArray());
            text.Append(ascii);
            whole.Append(ascii);
        }

        Assert.Equal(whole.Length == 0 ? null : TextTruncation.Truncate(whole.ToString(), limit), text.Build(recorder.ContentPolicy, TokenUsageContentPart.Answer));
    }

    [Fact]
    public void ContentText_HoldsAtMostTwoWindows_WhateverItSees()
    {
        using var recorder = ContentTestKit.NewRecorder(o => o.MaxLength = 100);
        var text = new ContentText(100);
        for (var i = 0; i < 10_000; i++)
        {
            text.Append("0123456789");
        }

        var heldChars = typeof(ContentText).GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
            .Where(f => f.FieldType == typeof(char[]))
            .Sum(f => ((char[]?)f.GetValue(text))?.Length ?? 0);
        Assert.Equal(100_000, text.Length);
        Assert.True(heldChars <= 200, $"held {heldChars} chars");
        var fifty = string.Concat(Enumerable.Repeat("0123456789", 5));
        Assert.Equal(fifty + " [truncated] " + fifty, text.Build(recorder.ContentPolicy, TokenUsageContentPart.Answer));
    }
}
