using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using TokenMetrics.Providers.Anthropic;
using TokenMetrics.Providers.Gemini;
using TokenMetrics.Providers.OpenAI;
using TokenMetrics.Providers.Tests.Support;

namespace TokenMetrics.Providers.Tests.Properties;

/// <summary>FsCheck properties of the JSON body readers: generated usage objects, embedded in bodies with extra members of any
/// JSON value, any member order and any whitespace, cut at any bytes, are read back as exactly the generated numbers. A failure
/// prints the seed as <c>(a,b)</c>: replay it with <c>[Property(Replay = "(a,b)")]</c>.</summary>
public class UsageJsonReaderProperties
{
    private const int Cases = 300;

    /// <summary>A generated body and the usage it carries.</summary>
    public sealed record Case(string Body, int[] Cuts, (long? Input, long? Output, long? Total, long? Cached, long? Reasoning, long? CacheWrite) Expected)
    {
        public override string ToString() => $"cuts=[{string.Join(',', Cuts)}] body={System.Text.Json.JsonSerializer.Serialize(Body)}";
    }

    private static Gen<long?> Optional => Gen.Frequency((2, PropertyGenerators.Count.Select(n => (long?)n)), (1, Gen.Constant<long?>(null)));

    private static Gen<(string, string)?> Member(string name, long? value) =>
        value is { } v ? PropertyGenerators.CountFormat.Select(f => ((string, string)?)(name, f(v))) : Gen.Constant<(string, string)?>(null);

    private static Gen<string> ObjectOf(params (string, string)?[] members) =>
        PropertyGenerators.WithExtras(members.Where(m => m is not null).Select(m => m!.Value)).SelectMany(PropertyGenerators.Object);

    /// <summary>Wraps the usage object in a body with <c>model</c>, <c>id</c> and extra members, then picks cut points.</summary>
    private static Gen<(string Body, int[] Cuts)> Body(string usageName, string usage) =>
        from body in ObjectOf((usageName, usage), ("model", "\"m-1\""), ("id", "\"id-1\""))
        from leading in PropertyGenerators.Whitespace
        from trailing in PropertyGenerators.Whitespace
        let text = leading + body + trailing
        from cuts in PropertyGenerators.Cuts(Encoding.UTF8.GetByteCount(text))
        select (text, cuts);

    private static Gen<Case> OpenAICase() =>
        from responsesApi in Gen.Elements(false, true)
        from prompt in PropertyGenerators.Count
        from completion in PropertyGenerators.Count
        from cached in Optional
        from reasoning in Optional
        from p in Member(responsesApi ? "input_tokens" : "prompt_tokens", prompt)
        from c in Member(responsesApi ? "output_tokens" : "completion_tokens", completion)
        from t in Member("total_tokens", prompt + completion)
        from cm in Member("cached_tokens", cached)
        from rm in Member("reasoning_tokens", reasoning)
        from inputDetails in cm is null ? Gen.Constant<(string, string)?>(null) : ObjectOf(cm).Select(o => ((string, string)?)(responsesApi ? "input_tokens_details" : "prompt_tokens_details", o))
        from outputDetails in rm is null ? Gen.Constant<(string, string)?>(null) : ObjectOf(rm).Select(o => ((string, string)?)(responsesApi ? "output_tokens_details" : "completion_tokens_details", o))
        from usage in ObjectOf(p, c, t, inputDetails, outputDetails)
        from body in Body("usage", usage)
        select new Case(body.Body, body.Cuts, (prompt, completion, prompt + completion, cached, reasoning, null));

    private static Gen<Case> AnthropicCase() =>
        from input in PropertyGenerators.Count
        from output in PropertyGenerators.Count
        from creation in Optional
        from read in Optional
        from i in Member("input_tokens", input)
        from o in Member("output_tokens", output)
        from cc in Member("cache_creation_input_tokens", creation)
        from cr in Member("cache_read_input_tokens", read)
        from usage in ObjectOf(i, o, cc, cr)
        from body in Body("usage", usage)
        let totalInput = input + (creation ?? 0) + (read ?? 0)
        select new Case(body.Body, body.Cuts, (totalInput, output, totalInput + output, read, null, creation));

    private static Gen<Case> GeminiCase() =>
        from prompt in PropertyGenerators.Count
        from candidates in PropertyGenerators.Count
        from thoughts in Optional
        from cached in Optional
        from toolUse in Optional
        from pm in Member("promptTokenCount", prompt)
        from cm in Member("candidatesTokenCount", candidates)
        from tm in Member("thoughtsTokenCount", thoughts)
        from km in Member("cachedContentTokenCount", cached)
        from um in Member("toolUsePromptTokenCount", toolUse)
        let total = prompt + candidates + (thoughts ?? 0) + (toolUse ?? 0)
        from all in Member("totalTokenCount", total)
        from usage in ObjectOf(pm, cm, tm, km, um, all)
        from body in Body("usageMetadata", usage)
        select new Case(body.Body, body.Cuts, (prompt + (toolUse ?? 0), candidates + (thoughts ?? 0), total, cached, thoughts, null));

    private static bool Reads(Case c, Func<TokenUsageResponseReader> create)
    {
        var u = VendorHarness.Run(create, Encoding.UTF8.GetBytes(c.Body), c.Cuts).Usage;
        Assert.NotNull(u);
        Assert.Equal(c.Expected, (u.InputTokenCount, u.OutputTokenCount, u.TotalTokenCount, u.CachedInputTokenCount, u.ReasoningTokenCount, u.CacheWriteInputTokenCount));
        return true;
    }

    [Property(MaxTest = Cases)]
    public Property OpenAI_ReadsExactlyTheGeneratedNumbers() =>
        Prop.ForAll(OpenAICase().ToArbitrary(), c => Reads(c, () => new OpenAIJsonReader(1 << 20)));

    [Property(MaxTest = Cases)]
    public Property Anthropic_ReadsExactlyTheGeneratedNumbers() =>
        Prop.ForAll(AnthropicCase().ToArbitrary(), c => Reads(c, () => new AnthropicJsonReader(1 << 20)));

    [Property(MaxTest = Cases)]
    public Property Gemini_ReadsExactlyTheGeneratedNumbers() =>
        Prop.ForAll(GeminiCase().ToArbitrary(), c => Reads(c, () => new GeminiBodyReader(1 << 20)));
}
