using System.Diagnostics;
using System.Globalization;
using TokenMetrics;

// Same method as the oracle's count.js: per file and encoding, one warm-up run, then the best of N timed runs, count-only.
// Usage: TokenizerThroughput [--enc cl100k_base,o200k_base] [--repeat N] FILE...
var encodings = new[] { "cl100k_base", "o200k_base" };
var repeat = 3;
var files = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--enc": encodings = args[++i].Split(','); break;
        case "--repeat": repeat = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: files.Add(args[i]); break;
    }
}

var inv = CultureInfo.InvariantCulture;
foreach (var name in encodings)
{
    var clock = Stopwatch.StartNew();
    TiktokenEncoding.GetEncoding(name).CountTokens("warm up"u8);
    Console.WriteLine(string.Create(inv, $"# tokenmetrics {name}: init {clock.Elapsed.TotalMilliseconds:F1} ms"));
}

Console.WriteLine("impl\tencoding\tfile\tbytes\ttokens\tbest_ms\tMB_per_s\tbytes_per_token");
long totalBytes = 0;
var totalMs = new Dictionary<string, double>();
var totalTokens = new Dictionary<string, long>();
foreach (var file in files)
{
    var data = File.ReadAllBytes(file);
    totalBytes += data.Length;
    foreach (var name in encodings)
    {
        var encoding = TiktokenEncoding.GetEncoding(name);
        var tokens = encoding.CountTokens(data);
        var best = double.MaxValue;
        for (var r = 0; r < repeat; r++)
        {
            var clock = Stopwatch.StartNew();
            tokens = encoding.CountTokens(data);
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
        }

        totalMs[name] = totalMs.GetValueOrDefault(name) + best;
        totalTokens[name] = totalTokens.GetValueOrDefault(name) + tokens;
        Console.WriteLine(string.Create(inv, $"tokenmetrics\t{name}\t{file}\t{data.Length}\t{tokens}\t{best:F1}\t{data.Length / 1e6 / (best / 1e3):F2}\t{data.Length / (double)tokens:F2}"));
    }
}

foreach (var name in encodings)
{
    Console.WriteLine(string.Create(inv, $"tokenmetrics\t{name}\tTOTAL\t{totalBytes}\t{totalTokens[name]}\t{totalMs[name]:F1}\t{totalBytes / 1e6 / (totalMs[name] / 1e3):F2}\t{totalBytes / (double)totalTokens[name]:F2}"));
}
