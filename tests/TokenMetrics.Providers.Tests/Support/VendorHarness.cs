using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace TokenMetrics.Providers.Tests.Support;

/// <summary>Feeds fixtures to response readers with arbitrary read boundaries and compares what they extract.</summary>
public static class VendorHarness
{
    public static byte[] Load(string relative) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", relative));

    /// <summary>Feeds <paramref name="body"/> cut at <paramref name="cuts"/> (sorted offsets), then completes.</summary>
    public static TokenUsageResponseReader Run(Func<TokenUsageResponseReader> create, byte[] body, IEnumerable<int>? cuts = null)
    {
        var reader = create();
        var start = 0;
        foreach (var cut in cuts ?? [])
        {
            if (cut > start && cut < body.Length)
            {
                reader.Write(body.AsSpan(start, cut - start));
                start = cut;
            }
        }

        reader.Write(body.AsSpan(start));
        reader.Complete();
        return reader;
    }

    /// <summary>Everything a reader extracted, as one comparable string.</summary>
    public static string Fingerprint(TokenUsageResponseReader reader)
    {
        var u = reader.Usage;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"model={reader.ResponseModel} id={reader.ResponseId} completed={reader.Completed} error={reader.ErrorType} ");
        if (u is null)
        {
            return text.Append("usage=null").ToString();
        }

        text.Append(CultureInfo.InvariantCulture, $"in={u.InputTokenCount} out={u.OutputTokenCount} total={u.TotalTokenCount} cached={u.CachedInputTokenCount} write={u.CacheWriteInputTokenCount} reasoning={u.ReasoningTokenCount}");
        foreach (var (name, details) in new[] { ("inD", u.InputTokenDetails), ("outD", u.OutputTokenDetails) })
        {
            text.Append(' ').Append(name).Append('[');
            foreach (var (k, v) in details ?? new Dictionary<string, long>())
            {
                text.Append(CultureInfo.InvariantCulture, $"{k}={v};");
            }

            text.Append(']');
        }

        return text.ToString();
    }

    /// <summary>Checks that every single split point and <paramref name="randomPatterns"/> random multi-splits (with extra cuts inside
    /// every multi-byte UTF-8 sequence) give the same extraction as one read. The seed is logged so a failure can be replayed.</summary>
    public static string AssertSplitInvariant(Func<TokenUsageResponseReader> create, byte[] body, ITestOutputHelper output, int randomPatterns = 300, int? seed = null)
    {
        var expected = Fingerprint(Run(create, body));
        for (var i = 1; i < body.Length; i++)
        {
            var got = Fingerprint(Run(create, body, [i]));
            Assert.True(expected == got, $"split at {i}: {got} != {expected}");
        }

        var actualSeed = seed ?? Random.Shared.Next();
        output.WriteLine($"split-invariance seed: {actualSeed} ({body.Length} bytes, {randomPatterns} patterns)");
        var random = new Random(actualSeed);
        var multiByteInsides = new List<int>();
        for (var i = 1; i < body.Length; i++)
        {
            if ((body[i] & 0xC0) == 0x80)
            {
                multiByteInsides.Add(i); // a continuation byte: cutting before it splits a character
            }
        }

        for (var p = 0; p < randomPatterns; p++)
        {
            var cuts = new SortedSet<int>();
            var count = random.Next(1, Math.Max(2, body.Length / 8));
            for (var c = 0; c < count; c++)
            {
                cuts.Add(random.Next(1, body.Length));
            }

            if (multiByteInsides.Count > 0)
            {
                cuts.Add(multiByteInsides[random.Next(multiByteInsides.Count)]);
            }

            var got = Fingerprint(Run(create, body, cuts));
            Assert.True(expected == got, $"seed {actualSeed} pattern {p} cuts [{string.Join(',', cuts)}]: {got} != {expected}");
        }

        return expected;
    }
}
