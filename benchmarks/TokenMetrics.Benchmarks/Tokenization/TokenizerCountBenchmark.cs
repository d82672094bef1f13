using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace TokenMetrics.Benchmarks.Tokenization;

/// <summary>Count-only throughput on the tokenizer corpus: one op counts one whole file (no cache: every op sees the same
/// text, but nothing is remembered between pieces). MB/s = 10^6 UTF-8 bytes per second of the mean.</summary>
[Config(typeof(ThroughputConfig))]
public class TokenizerCountBenchmark
{
    private TiktokenEncoding _encoding = null!;
    private byte[] _utf8 = null!;
    private string _text = null!;

    [Params("cl100k_base", "o200k_base")]
    public string Encoding { get; set; } = "cl100k_base";

    [Params("english", "chinese", "code", TokenizerCorpus.Whole)]
    public string File { get; set; } = "english";

    [GlobalSetup]
    public void Setup()
    {
        _encoding = TiktokenEncoding.GetEncoding(Encoding);
        _utf8 = TokenizerCorpus.Load(File);
        _text = System.Text.Encoding.UTF8.GetString(_utf8);
    }

    [Benchmark(Baseline = true, Description = "CountTokens(UTF-8)")]
    public int CountUtf8() => _encoding.CountTokens(_utf8);

    [Benchmark(Description = "CountTokens(string)")]
    public int CountString() => _encoding.CountTokens(_text);

    [Benchmark(Description = "Encode(UTF-8) to ids")]
    public int EncodeUtf8() => _encoding.EncodeUtf8(_utf8).Length;
}

/// <summary>Init cost: loading and indexing the embedded ranks of one encoding (a fresh table each op).</summary>
public class TokenizerLoadBenchmark
{
    [Benchmark]
    public int LoadCl100k() => Internal.RankTable.Load("TokenMetrics.Tokenization.Data.cl100k_base.ranks.deflate").Count;

    [Benchmark]
    public int LoadO200k() => Internal.RankTable.Load("TokenMetrics.Tokenization.Data.o200k_base.ranks.deflate").Count;
}

/// <summary>Short prompts, the estimator's usual input: a chat turn of about 200 bytes.</summary>
[MemoryDiagnoser]
public class TokenizerShortTextBenchmark
{
    private const string Prompt = "You are a helpful assistant. Summarize the following email in two sentences, keep names and dates, and answer in the language of the email: \"Hi team, the release moved to 12 March.\"";

    [Benchmark]
    public int CountShortO200k() => TiktokenEncoding.O200kBase.CountTokens(Prompt);

    [Benchmark]
    public int CountShortCl100k() => TiktokenEncoding.Cl100kBase.CountTokens(Prompt);
}

/// <summary>Adds the MB/s column.</summary>
internal sealed class ThroughputConfig : ManualConfig
{
    public ThroughputConfig() => AddColumn(new MegabytesPerSecondColumn());
}

/// <summary>MB/s = 10^6 UTF-8 input bytes per second of the mean, for the input named by the <c>File</c> parameter.</summary>
internal sealed class MegabytesPerSecondColumn : IColumn
{
    public string Id => "MBps";

    public string ColumnName => "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "10^6 UTF-8 input bytes per second (mean)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats)
        {
            return "-";
        }

        var file = (string)benchmarkCase.Parameters["File"];
        var bytes = TokenizerCorpus.Load(file).Length;
        return (bytes / 1e6 / (stats.Mean / 1e9)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
