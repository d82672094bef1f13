using System.Text;
using TokenMetrics.Providers.OpenAI;

namespace TokenMetrics.Providers.Tests.OpenAI;

/// <summary>The non-streamed body's fast path (top-level members walked with a cursor, the usage object read plainly) against the
/// full <c>Utf8JsonReader</c> path: the same usage, details, model, id, error, completion and answer text for every body, whole
/// and cut at every byte; and the fast path really reads the usual bodies (and leaves the odd ones to the full path).</summary>
public class OpenAIJsonFastPathTests
{
    private static readonly string Content = string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", 6));

    /// <summary>Bodies the fast path reads itself.</summary>
    private static readonly string[] Plain =
    [
        // Chat Completions as OpenAI sends it today.
        "{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion\",\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + Content + "\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":380,\"total_tokens\":1580,\"prompt_tokens_details\":{\"cached_tokens\":1024,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\"}",
        // Pretty-printed, escapes and non-ASCII inside skipped strings, tool calls, numbers of every JSON form.
        "{\n  \"id\": \"chatcmpl-2\",\n  \"model\": \"gpt-4o\",\n  \"choices\": [ { \"index\": 0, \"message\": { \"role\": \"assistant\", \"content\": \"say \\\"usage\\\": {\\\"prompt_tokens\\\": 9} \\u00e9\\ud83d\\ude00 \\\\ \\/ \\b\\f\\n\\r\\t 日本語\", \"tool_calls\": [ { \"id\": \"call_1\", \"type\": \"function\", \"function\": { \"name\": \"f\", \"arguments\": \"{\\\"x\\\": [1, 2.5, -3e-2]}\" } } ] }, \"logprobs\": { \"content\": [ { \"token\": \"a\", \"logprob\": -0.0001, \"bytes\": [97], \"top\": 1E+2 } ] }, \"finish_reason\": \"tool_calls\" } ],\n  \"usage\": { \"prompt_tokens\": 7 , \"completion_tokens\": 0, \"total_tokens\": 7 },\n  \"ok\": true, \"no\": false, \"nothing\": null, \"zero\": 0, \"neg\": -0.5, \"empty\": {}, \"list\": []\n}\n",
        // Embeddings: a long array of fractions, usage without completion tokens.
        "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":[0.0023064255,-0.009327292,1e-5,-0.0,0,12.5E3]}],\"model\":\"text-embedding-3-small\",\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}",
        // Responses API: input/output names, status, details with unknown plain names.
        "{\"id\":\"resp_67ccd2bed1ec8190b14f964abc054267\",\"object\":\"response\",\"created_at\":1741476542,\"status\":\"completed\",\"error\":null,\"model\":\"gpt-4.1-2025-04-14\",\"output\":[{\"type\":\"message\",\"id\":\"msg_1\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hi\",\"annotations\":[]}]}],\"usage\":{\"input_tokens\":36,\"input_tokens_details\":{\"cached_tokens\":0,\"new_kind_tokens\":5},\"output_tokens\":87,\"output_tokens_details\":{\"reasoning_tokens\":12},\"total_tokens\":123}}",
        // A failed response: an error even with HTTP 200.
        "{\"id\":\"resp_2\",\"status\":\"failed\",\"model\":\"gpt-4.1\",\"output\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":0,\"total_tokens\":3}}",
        // Cache writes inside the details (Azure, Qwen), and empty details objects.
        "{\"model\":\"qwen-plus\",\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":5,\"total_tokens\":55,\"prompt_tokens_details\":{\"cached_tokens\":10,\"cache_creation_input_tokens\":30},\"completion_tokens_details\":{}}}",
        "{\"model\":\"gpt-4o\",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":5,\"prompt_tokens_details\":{\"cache_write_tokens\":2}}}",
        // No usage at all, a null usage, an empty usage, a usage that is not an object: the answer text is kept for the estimate.
        "{\"id\":\"x\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + Content + "\",\"refusal\":\"no\"}}]}",
        "{\"id\":\"x\",\"model\":\"gpt-4o\",\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":null}",
        "{\"id\":\"x\",\"usage\":{},\"choices\":[{\"message\":{\"content\":\"a\"}}]}",
        "{\"usage\":[1,2],\"model\":7,\"id\":{\"a\":1},\"status\":[\"failed\"]}",
        // Repeated members: the later one wins, as in the full path.
        "{\"model\":\"first\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1},\"model\":\"second\",\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":3},\"id\":\"a\",\"id\":\"b\"}",
        "{\"model\":\"kept\",\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":4},\"model\":null,\"usage\":null}",
        "{}",
        " \r\n\t{ } \n",
    ];

    public static TheoryData<string> PlainBodies() => new(Plain);

    public static TheoryData<string> OddBodies() => new(Odd);

    /// <summary>Bodies the fast path must leave to the full path: cut, lenient, deep, escaped where a value is kept, rare usage
    /// shapes, error bodies, not JSON.</summary>
    private static readonly string[] Odd =
    [
        "{\"error\":{\"message\":\"Rate limit\",\"type\":\"rate_limit_error\",\"code\":\"rate_limit_exceeded\"}}",
        "{\"id\":\"x\",\"choices\":[tru],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"id\":\"x\",\"n\":01,\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"id\":\"x\",\"n\":1.,\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"id\":\"x\",\"n\":-,\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"id\":\"x\",\"n\":1e,\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"id\":\"x\",\"s\":\"bad \\x escape\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"id\":\"x\",\"s\":\"bad \\u12G4\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"id\":\"x\",\"s\":\"tab\tinside\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"id\":\"x\",\"a\":[1,2,],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"id\":\"x\",\"o\":{\"a\":1,},\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"id\":\"x\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}} trailing",
        "{\"id\":\"x\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1},}",
        "{\"id\":\"x\" \"usage\":{\"prompt_tokens\":1}}",
        "{\"id\":\"chat\\u002d1\",\"model\":\"gpt\\u002d4o\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"i\\u0064\":\"escaped name\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"status\":\"fa\\u0069led\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}",
        "{\"model\":\"deepseek-chat\",\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2,\"total_tokens\":12,\"prompt_cache_hit_tokens\":4,\"prompt_cache_miss_tokens\":6}}",
        "{\"model\":\"kimi\",\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2,\"cached_tokens\":4}}",
        "{\"model\":\"sonar\",\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2,\"reasoning_tokens\":1,\"citation_tokens\":30}}",
        "{\"model\":\"qwen\",\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2,\"prompt_tokens_details\":{\"cache_creation\":{\"ephemeral_5m_input_tokens\":3},\"cache_type\":\"ephemeral\"}}}",
        "{\"usage\":{\"prompt_tokens\":\"12\",\"completion_tokens\":3.0,\"total_tokens\":1.5e1}}",
        "{\"usage\":{\"prompt_tokens\":null,\"completion_tokens\":-1,\"total_tokens\":1234567890123456789012}}",
        "{\"usage\":{\"prompt_tokens\":1,\"input_tokens\":2,\"completion_tokens\":3}}",
        "{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":3,\"prompt_tokens_details\":{\"cached_tokens\":1},\"prompt_tokens_details\":{\"audio_tokens\":2}}}",
        "{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":3,\"prompt_tokens_details\":{\"cached_tokens\":null}}}",
        "{\"usage\":{\"pro\\u006dpt_tokens\":1,\"completion_tokens\":3}}",
        "{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3}",
        "[{\"usage\":{\"prompt_tokens\":5}}]",
        "\"usage\"",
        "<html><body>502 Bad Gateway</body></html>",
        "\uFEFF{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3}}",
        "{\"deep\":" + new string('[', 80) + new string(']', 80) + ",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3}}",
    ];

    [Theory]
    [MemberData(nameof(PlainBodies))]
    public void A_plain_body_is_read_by_the_fast_path_with_the_full_paths_answer(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var fast = Run(bytes, fastPath: true, out var readPlain);

        Assert.True(readPlain);
        Assert.Equal(Run(bytes, fastPath: false, out _), fast);
    }

    [Theory]
    [MemberData(nameof(OddBodies))]
    public void An_odd_body_is_left_to_the_full_path_and_read_as_before(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var fast = Run(bytes, fastPath: true, out var readPlain);

        Assert.False(readPlain);
        Assert.Equal(Run(bytes, fastPath: false, out _), fast);
    }

    [Fact]
    public void Every_cut_of_every_body_reads_as_the_full_path_reads_it()
    {
        var checkedCuts = 0;
        foreach (var body in Plain.Concat(Odd))
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            for (var length = 0; length < bytes.Length; length++)
            {
                var cut = bytes.AsSpan(0, length).ToArray();
                Assert.Equal(Run(cut, fastPath: false, out _), Run(cut, fastPath: true, out _));
                checkedCuts++;
            }
        }

        Assert.True(checkedCuts > 5_000, $"{checkedCuts} cuts");
    }

    [Fact]
    public void A_key_or_model_that_is_not_valid_utf8_fails_the_same_way_on_both_paths()
    {
        // The full path's GetString throws for invalid UTF-8 in an id; the fast path must not turn that into another answer.
        var bytes = Encoding.UTF8.GetBytes("{\"id\":\"ab\",\"model\":\"m\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}");
        var invalid = bytes.ToArray();
        invalid[7] = 0xFF; // inside the id
        Assert.Equal(Run(invalid, fastPath: false, out _), Run(invalid, fastPath: true, out var readPlain));
        Assert.False(readPlain);

        var model = bytes.ToArray();
        model[19] = 0xC3; // a lead byte with no continuation, inside the model
        Assert.Equal(Run(model, fastPath: false, out _), Run(model, fastPath: true, out readPlain));
        Assert.False(readPlain);
    }

    [Theory]
    [InlineData("{\"prompt_tokens\":1200,\"completion_tokens\":380,\"total_tokens\":1580,\"prompt_tokens_details\":{\"cached_tokens\":1024,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":7,\"audio_tokens\":0}}", true)]
    [InlineData(" { \"input_tokens\" : 3 , \"output_tokens\" : 4 , \"output_tokens_details\" : { \"reasoning_tokens\" : 2 } } ", true)]
    [InlineData("{}", true)]
    [InlineData("{\"total_tokens\":0}", true)]
    [InlineData("{\"prompt_tokens\":10,\"completion_tokens\":2,\"prompt_cache_hit_tokens\":4}", false)]
    [InlineData("{\"prompt_tokens\":10,\"prompt_tokens\":11}", false)]
    [InlineData("{\"prompt_tokens\":10,\"completion_tokens\":007}", false)]
    [InlineData("{\"prompt_tokens\":10,\"completion_tokens\":1234567890123456789}", false)]
    [InlineData("{\"prompt_tokens\":10}x", false)]
    public void The_plain_usage_reader_gives_what_the_full_reader_gives(string json, bool plain)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        Assert.Equal(plain, OpenAIUsage.TryParsePlain(bytes, out var read));
        if (plain)
        {
            Assert.Equal(Describe(OpenAIUsage.Parse(bytes.AsSpan().TrimStart(" "u8))), Describe(read));
        }
    }

    private static string Run(byte[] body, bool fastPath, out bool readPlain)
    {
        var reader = new OpenAIJsonReader(1 << 20) { FastPath = fastPath };
        readPlain = false;
        try
        {
            // Written in two pieces, as a body arrives.
            reader.Write(body.AsSpan(0, body.Length / 2));
            reader.Write(body.AsSpan(body.Length / 2));
            reader.Complete();
            readPlain = reader.ReadPlain;
            return $"completed={reader.Completed} model={reader.ResponseModel ?? "-"} id={reader.ResponseId ?? "-"} error={reader.ErrorType ?? "-"} usage={Describe(reader.Usage)} text={(reader.HasOutputText ? reader.OutputText.GetText(out _) : "-")}";
        }
        catch (Exception ex)
        {
            return "threw " + ex.GetType().FullName;
        }
        finally
        {
            reader.Dispose();
        }
    }

    private static string Describe(TokenUsage? usage) => usage is null
        ? "null"
        : $"in={usage.InputTokenCount} out={usage.OutputTokenCount} total={usage.TotalTokenCount} cached={usage.CachedInputTokenCount} write={usage.CacheWriteInputTokenCount} reasoning={usage.ReasoningTokenCount} "
            + $"inDetails=[{Details(usage.InputTokenDetails)}] outDetails=[{Details(usage.OutputTokenDetails)}]";

    private static string Details(IReadOnlyDictionary<string, long>? details) =>
        details is null ? "null" : string.Join(",", details.Select(d => d.Key + ":" + d.Value));
}
