using BenchmarkDotNet.Attributes;
using Microsoft.ML.Tokenizers;
using SharpToken;

namespace TokenMetrics.Benchmarks.Tokenization;

/// <summary>Ours, SharpToken 2.0.6 and Microsoft.ML.Tokenizers 3.0.0 (with its data packages) in one run, on the same string
/// inputs: count-only and encode to ids. Peers run with their defaults (Microsoft's LRU cache of short pieces is on and,
/// since every op sees the same text, warm after the first op; ours has no cache). MB/s = 10^6 UTF-8 bytes per second.</summary>
[Config(typeof(ThroughputConfig))]
[MemoryDiagnoser]
public class TokenizerPeerBenchmark
{
    private TiktokenEncoding _ours = null!;
    private GptEncoding _sharp = null!;
    private Tokenizer _ml = null!;
    private string _text = null!;

    // Special-token text is ordinary text, as for ours and the oracle (tiktoken's encode_ordinary); SharpToken's default
    // would scan for and reject it.
    private static readonly HashSet<string> NoSpecials = [];

    [Params("cl100k_base", "o200k_base")]
    public string Encoding { get; set; } = "cl100k_base";

    [Params("english", "chinese", "code", "emoji", TokenizerCorpus.Whole)]
    public string File { get; set; } = "english";

    [GlobalSetup]
    public void Setup()
    {
        _ours = TiktokenEncoding.GetEncoding(Encoding);
        _sharp = GptEncoding.GetEncoding(Encoding);
        _ml = TiktokenTokenizer.CreateForEncoding(Encoding);
        _text = System.Text.Encoding.UTF8.GetString(TokenizerCorpus.Load(File));
    }

    [Benchmark(Baseline = true, Description = "ours count")]
    public int OursCount() => _ours.CountTokens(_text);

    [Benchmark(Description = "SharpToken count")]
    public int SharpTokenCount() => _sharp.CountTokens(_text, allowedSpecial: null, disallowedSpecial: NoSpecials);

    [Benchmark(Description = "ML.Tokenizers count")]
    public int MicrosoftMLCount() => _ml.CountTokens(_text);

    [Benchmark(Description = "ours encode")]
    public int OursEncode() => _ours.Encode(_text).Length;

    [Benchmark(Description = "SharpToken encode")]
    public int SharpTokenEncode() => _sharp.Encode(_text, allowedSpecial: null, disallowedSpecial: NoSpecials).Count;

    [Benchmark(Description = "ML.Tokenizers encode")]
    public int MicrosoftMLEncode() => _ml.EncodeToIds(_text).Count;
}

/// <summary>Inputs without split points (issue 11): one 10 MB and one 100 MB word, base64, a repeated emoji, a run of spaces. Counting is
/// linear in time (compare 10 MB with 100 MB) and needs no memory that grows with the input: whole-buffer counting allocates
/// only the linear encoder's fixed tables per long piece; the stream counter holds a 64 KiB window.</summary>
[Config(typeof(ThroughputConfig))]
[MemoryDiagnoser]
public class TokenizerPathologicalBenchmark
{
    private TiktokenEncoding _encoding = null!;
    private byte[] _utf8 = null!;

    [Params("cl100k_base", "o200k_base")]
    public string Encoding { get; set; } = "cl100k_base";

    [Params("word-a-10MB", "word-a-100MB", "base64-10MB", "emoji-10MB", "spaces-10MB")]
    public string File { get; set; } = "word-a-10MB";

    [GlobalSetup]
    public void Setup()
    {
        _encoding = TiktokenEncoding.GetEncoding(Encoding);
        _utf8 = TokenizerCorpus.Load(File);
    }

    [Benchmark(Baseline = true, Description = "CountTokens(UTF-8)")]
    public int Count() => _encoding.CountTokens(_utf8);

    [Benchmark(Description = "stream counter, 64 KB chunks")]
    public long CountStreamed()
    {
        var counter = _encoding.CreateStreamCounter();
        for (var at = 0; at < _utf8.Length; at += 1 << 16)
        {
            counter.Append(_utf8.AsSpan(at, Math.Min(1 << 16, _utf8.Length - at)));
        }

        return counter.Complete();
    }
}
