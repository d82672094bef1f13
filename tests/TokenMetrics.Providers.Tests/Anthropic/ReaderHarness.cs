using System.Text;
using TokenMetrics.Providers.Bedrock;

namespace TokenMetrics.Providers.Tests.Anthropic;

/// <summary>Feeds bodies to response readers whole, at every split point and at random split points, and describes the outcome.</summary>
internal static class ReaderHarness
{
    public static string Fixture(string vendor, string name) => Path.Combine(AppContext.BaseDirectory, "TestData", vendor, name);

    public static byte[] Bytes(string vendor, string name) => File.ReadAllBytes(Fixture(vendor, name));

    /// <summary>Feeds <paramref name="body"/> in the given pieces and completes the reader.</summary>
    public static T Feed<T>(T reader, byte[] body, IEnumerable<int> cuts)
        where T : TokenUsageResponseReader
    {
        var start = 0;
        foreach (var cut in cuts.Order())
        {
            reader.Write(body.AsSpan(start, cut - start));
            start = cut;
        }

        reader.Write(body.AsSpan(start));
        reader.Complete();
        return reader;
    }

    /// <summary>Feeds <paramref name="body"/> in pieces ending at <paramref name="cuts"/> (in the order given) as the handler does, through
    /// <see cref="TokenUsageResponseReader.Transform"/> when the reader transforms, and completes the reader.</summary>
    /// <returns>The bytes the app reads when the reader transforms (UTF-8 text), otherwise empty.</returns>
    public static string FeedThrough(TokenUsageResponseReader reader, byte[] body, IEnumerable<int> cuts)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        var start = 0;
        foreach (var cut in cuts.Append(body.Length))
        {
            if (reader.TransformsContent)
            {
                reader.Transform(body.AsSpan(start, cut - start), output, final: false);
            }
            else
            {
                reader.Write(body.AsSpan(start, cut - start));
            }

            start = cut;
        }

        if (reader.TransformsContent)
        {
            reader.Transform([], output, final: true);
        }

        reader.Complete();
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>Everything a record takes from a reader, as one comparable string.</summary>
    public static string Describe(TokenUsageResponseReader reader)
    {
        var u = reader.Usage;
        var sb = new StringBuilder();
        sb.Append($"completed={reader.Completed} error={reader.ErrorType} model={reader.ResponseModel} id={reader.ResponseId}");
        if (u is not null)
        {
            sb.Append($" in={u.InputTokenCount} out={u.OutputTokenCount} total={u.TotalTokenCount} cached={u.CachedInputTokenCount} write={u.CacheWriteInputTokenCount} reasoning={u.ReasoningTokenCount}");
            foreach (var (k, v) in u.InputTokenDetails ?? new Dictionary<string, long>())
            {
                sb.Append($" i.{k}={v}");
            }

            foreach (var (k, v) in u.OutputTokenDetails ?? new Dictionary<string, long>())
            {
                sb.Append($" o.{k}={v}");
            }
        }

        if (reader.HasOutputText)
        {
            sb.Append(" text=").Append(reader.OutputText.GetText(out _));
        }

        return sb.ToString();
    }

    /// <summary>Checks that every single split point and <paramref name="randomRuns"/> random multi-splits give the same outcome as one write.</summary>
    public static void AssertSplitInvariant(Func<TokenUsageResponseReader> create, byte[] body, int seed, int randomRuns = 300)
    {
        var expected = Describe(Feed(create(), body, []));
        Assert.DoesNotContain('\uFFFD', expected);
        for (var cut = 1; cut < body.Length; cut++)
        {
            var actual = Describe(Feed(create(), body, [cut]));
            Assert.True(expected == actual, $"split at {cut}: {actual} != {expected}");
        }

        var random = new Random(seed);
        for (var run = 0; run < randomRuns; run++)
        {
            var count = random.Next(2, Math.Min(40, body.Length));
            var cuts = Enumerable.Range(0, count).Select(_ => random.Next(1, body.Length)).Distinct().ToArray();
            var actual = Describe(Feed(create(), body, cuts));
            Assert.True(expected == actual, $"seed {seed} run {run} cuts [{string.Join(',', cuts.Order())}]: {actual} != {expected}");
        }
    }

    /// <summary>Builds a Bedrock event stream from a <c>.jsonl</c> description: <c>{"event":type,"payload":{...}}</c> or <c>{"exception":type,...}</c>.</summary>
    public static byte[] EventStream(string name)
    {
        using var output = new MemoryStream();
        foreach (var line in File.ReadAllLines(Fixture("bedrock", name)).Where(l => l.Length > 0))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            var payload = Encoding.UTF8.GetBytes(doc.RootElement.GetProperty("payload").GetRawText());
            var frame = doc.RootElement.TryGetProperty("event", out var e)
                ? EventStreamWriter.Event(e.GetString()!, payload)
                : EventStreamWriter.Exception(doc.RootElement.GetProperty("exception").GetString()!, payload);
            output.Write(frame);
        }

        return output.ToArray();
    }

    /// <summary>Wraps each Anthropic event line into an InvokeModelWithResponseStream <c>chunk</c> frame (<c>{"bytes":base64}</c>).</summary>
    public static byte[] InvokeStream(IEnumerable<string> events)
    {
        using var output = new MemoryStream();
        foreach (var line in events.Where(l => l.Length > 0))
        {
            var payload = Encoding.UTF8.GetBytes("{\"bytes\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes(line)) + "\",\"p\":\"abcdefgh\"}");
            output.Write(EventStreamWriter.Event("chunk", payload));
        }

        return output.ToArray();
    }
}
