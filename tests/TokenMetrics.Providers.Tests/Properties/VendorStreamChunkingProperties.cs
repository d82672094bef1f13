using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace TokenMetrics.Providers.Tests.Properties;

/// <summary>FsCheck properties: a generated OpenAI, Anthropic or Gemini stream, served through <see cref="TokenMetricsHandler"/> in
/// arbitrary read sizes, reaches the app byte for byte and is recorded with exactly the generated usage. A failure prints the seed
/// as <c>(a,b)</c>: replay it with <c>[Property(Replay = "(a,b)")]</c>.</summary>
public class VendorStreamChunkingProperties
{
    // Each case is one call through the handler and the recording pipeline (a few ms): 60 cases keep a property near a second.
    private const int Cases = 60;

    /// <summary>A generated stream and what the record must say.</summary>
    public sealed record Case(string Body, int[] ReadSizes, long Input, long Output, long Total, long? Cached, long? Reasoning, long? CacheWrite)
    {
        public override string ToString() => $"reads=[{string.Join(',', ReadSizes)}] body={System.Text.Json.JsonSerializer.Serialize(Body)}";
    }

    private static readonly Gen<string> LineEnd = Gen.Elements("\n", "\r\n", "\r");

    private static readonly Gen<int[]> ReadSizes = Gen.Choose(1, 12).SelectMany(n => Gen.ArrayOf(Gen.Frequency((4, Gen.Choose(1, 8)), (2, Gen.Choose(9, 97)), (1, Gen.Choose(98, 600))), n));

    private static readonly Gen<string[]> Texts = Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(PropertyGenerators.AnyText, n));

    private static string Inv(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static Gen<Case> OpenAICase() =>
        from counts in Gen.ArrayOf(PropertyGenerators.Count, 4)
        from texts in Texts
        from eol in LineEnd
        from reads in ReadSizes
        let prompt = counts[0] + counts[2]
        let completion = counts[1] + counts[3]
        let body = string.Concat(texts.Select(t => $"data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{PropertyGenerators.JsonString(t)}}},\"finish_reason\":null}}]}}{eol}{eol}"))
            + $"data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}{eol}{eol}"
            + $"data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[],\"usage\":{{\"prompt_tokens\":{Inv(prompt)},\"completion_tokens\":{Inv(completion)},\"total_tokens\":{Inv(prompt + completion)},"
            + $"\"prompt_tokens_details\":{{\"cached_tokens\":{Inv(counts[2])},\"audio_tokens\":0}},\"completion_tokens_details\":{{\"reasoning_tokens\":{Inv(counts[3])}}}}}}}{eol}{eol}data: [DONE]{eol}{eol}"
        select new Case(body, reads, prompt, completion, prompt + completion, counts[2], counts[3], null);

    private static Gen<Case> AnthropicCase() =>
        from counts in Gen.ArrayOf(PropertyGenerators.Count, 4)
        from texts in Texts
        from eol in LineEnd
        from reads in ReadSizes
        let start = $"event: message_start{eol}data: {{\"type\":\"message_start\",\"message\":{{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],"
            + $"\"usage\":{{\"input_tokens\":{Inv(counts[0])},\"cache_creation_input_tokens\":{Inv(counts[1])},\"cache_read_input_tokens\":{Inv(counts[2])},\"output_tokens\":1}}}}}}{eol}{eol}"
            + $"event: content_block_start{eol}data: {{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{{\"type\":\"text\",\"text\":\"\"}}}}{eol}{eol}"
        let deltas = string.Concat(texts.Select(t => $"event: content_block_delta{eol}data: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":{PropertyGenerators.JsonString(t)}}}}}{eol}{eol}"))
        let end = $"event: ping{eol}data: {{\"type\":\"ping\"}}{eol}{eol}event: content_block_stop{eol}data: {{\"type\":\"content_block_stop\",\"index\":0}}{eol}{eol}"
            + $"event: message_delta{eol}data: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\"}},\"usage\":{{\"output_tokens\":{Inv(counts[3])}}}}}{eol}{eol}event: message_stop{eol}data: {{\"type\":\"message_stop\"}}{eol}{eol}"
        let input = counts[0] + counts[1] + counts[2]
        select new Case(start + deltas + end, reads, input, counts[3], input + counts[3], counts[2], null, counts[1]);

    /// <summary>Gemini repeats running totals in every chunk: the last value of each field is the answer.</summary>
    private static Gen<Case> GeminiCase() =>
        from prompt in PropertyGenerators.Count
        from thoughts in PropertyGenerators.Count
        from steps in Gen.Choose(1, 6).SelectMany(n => Gen.ArrayOf(Gen.Zip(PropertyGenerators.Count, PropertyGenerators.AnyText), n))
        from eol in LineEnd
        from reads in ReadSizes
        let running = steps.Select((s, i) => steps.Take(i + 1).Sum(x => x.Item1)).ToArray()
        let body = string.Concat(steps.Select((s, i) =>
            $"data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":{PropertyGenerators.JsonString(s.Item2)}}}],\"role\":\"model\"}}{(i == steps.Length - 1 ? ",\"finishReason\":\"STOP\"" : string.Empty)},\"index\":0}}],"
            + $"\"usageMetadata\":{{\"promptTokenCount\":{Inv(prompt)},\"candidatesTokenCount\":{Inv(running[i])},\"totalTokenCount\":{Inv(prompt + running[i] + thoughts)},\"thoughtsTokenCount\":{Inv(thoughts)}}},"
            + $"\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}}{eol}{eol}"))
        select new Case(body, reads, prompt, running[^1] + thoughts, prompt + running[^1] + thoughts, null, thoughts, null);

    private static bool Check(Case c, ITokenUsageProtocol protocol, string url, string request) => Task.Run(async () =>
    {
        var body = Encoding.UTF8.GetBytes(c.Body);
        await using var recorder = new TestRecorder();
        using var client = new HttpClient(new TokenMetricsHandler(recorder.Recorder, [protocol], StubHttpHandler.Returning((_, _) => StubHttpHandler.Sse(body, c.ReadSizes))));
        using var response = await client.PostAsync(url, new StringContent(request, Encoding.UTF8, "application/json"));
        var seen = await response.Content.ReadAsByteArrayAsync();
        var record = Assert.Single(await recorder.RecordsAsync(1));
        var u = record.Usage;
        Assert.Equal(body, seen);
        Assert.Equal(TokenUsageSource.Reported, record.Source);
        Assert.Equal(
            (c.Input, c.Output, c.Total, c.Cached, c.Reasoning, c.CacheWrite),
            (u.InputTokenCount, u.OutputTokenCount, u.TotalTokenCount, u.CachedInputTokenCount, u.ReasoningTokenCount, u.CacheWriteInputTokenCount));
        return true;
    }).GetAwaiter().GetResult();

    [Property(MaxTest = Cases)]
    public Property OpenAI_AnyChunking_RecordsTheGeneratedUsage() =>
        Prop.ForAll(OpenAICase().ToArbitrary(), c => Check(
            c,
            OpenAITokenMetricsBuilderExtensions.CreateOpenAIProtocol(),
            "https://api.openai.com/v1/chat/completions",
            "{\"model\":\"gpt-4o\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));

    [Property(MaxTest = Cases)]
    public Property Anthropic_AnyChunking_RecordsTheGeneratedUsage() =>
        Prop.ForAll(AnthropicCase().ToArbitrary(), c => Check(
            c,
            AnthropicTokenMetricsBuilderExtensions.CreateAnthropicProtocol(),
            "https://api.anthropic.com/v1/messages",
            "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":100,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));

    [Property(MaxTest = Cases)]
    public Property Gemini_AnyChunking_RecordsTheGeneratedUsage() =>
        Prop.ForAll(GeminiCase().ToArbitrary(), c => Check(
            c,
            GeminiTokenMetricsBuilderExtensions.CreateGeminiProtocol(),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]}"));
}
