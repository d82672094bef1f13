using System.IO.Compression;

namespace TokenMetrics.Benchmarks.Tokenization;

/// <summary>The tokenizer test corpus (tests/TokenMetrics.Tokenizer.Tests/TestData/corpus), found by walking up to the repo root.</summary>
public static class TokenizerCorpus
{
    public const string Whole = "corpus";

    private static readonly Dictionary<string, byte[]> Cache = [];

    /// <summary>One corpus file by short name (english, chinese, code...), or <see cref="Whole"/>: all files, concatenated.</summary>
    public static byte[] Load(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out var data))
            {
                var dir = Path.Combine(RepoRoot(), "tests", "TokenMetrics.Tokenizer.Tests", "TestData", "corpus");
                var files = name == Whole ? Directory.GetFiles(dir, "*.txt.gz").Order(StringComparer.Ordinal).ToArray() : [Path.Combine(dir, name + ".txt.gz")];
                using var all = new MemoryStream();
                foreach (var file in files)
                {
                    using var gz = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
                    gz.CopyTo(all);
                }

                data = all.ToArray();
                Cache[name] = data;
            }

            return data;
        }
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TokenMetrics.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("TokenMetrics.sln not found above " + AppContext.BaseDirectory);
    }
}
