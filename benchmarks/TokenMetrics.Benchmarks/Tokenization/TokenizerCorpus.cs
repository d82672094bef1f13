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
            if (!Cache.TryGetValue(name, out var data) && Generated(name) is { } generated)
            {
                data = generated;
                Cache[name] = data;
            }
            else if (data is null)
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

    /// <summary>Inputs made on the fly (deterministic): <c>emoji</c>, a chat-like text heavy in emoji (about 1 MB), and the
    /// pathological inputs without split points: <c>word-a-10MB</c>, <c>word-a-100MB</c> (one word of 'a'), <c>word-10MB</c>
    /// (one word of random lowercase letters), <c>base64-10MB</c>, <c>emoji-10MB</c> (one emoji repeated), <c>spaces-10MB</c>.</summary>
    private static byte[]? Generated(string name)
    {
        const int MB = 1_000_000;
        var random = new Random(20261205);
        switch (name)
        {
            case "word-a-10MB":
                return Repeat("a"u8, 10 * MB);
            case "word-a-100MB":
                return Repeat("a"u8, 100 * MB);
            case "word-10MB":
                var word = new byte[10 * MB];
                for (var i = 0; i < word.Length; i++)
                {
                    word[i] = (byte)('a' + random.Next(26));
                }

                return word;
            case "base64-10MB":
                var raw = new byte[10 * MB / 4 * 3];
                random.NextBytes(raw);
                return System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(raw));
            case "emoji-10MB":
                return Repeat("\U0001F600"u8, 10 * MB);
            case "spaces-10MB":
                return Repeat(" "u8, 10 * MB);
            case "emoji":
                string[] emoji = ["😀", "🎉", "👍🏽", "❤️", "👨‍👩‍👧", "🚀", "🇩🇪", "✨", "😂😂😂", "🙏"];
                string[] words = ["great", "see you", "lol", "thanks!", "on my way", "happy birthday", "ok", "wow", "nice one", "🤔 maybe"];
                var sb = new System.Text.StringBuilder();
                while (sb.Length < 500_000)
                {
                    sb.Append(words[random.Next(words.Length)]).Append(' ').Append(emoji[random.Next(emoji.Length)]);
                    sb.Append(random.Next(4) == 0 ? "\n" : " ");
                }

                return System.Text.Encoding.UTF8.GetBytes(sb.ToString());
            default:
                return null;
        }
    }

    private static byte[] Repeat(ReadOnlySpan<byte> unit, int bytes)
    {
        var data = new byte[bytes / unit.Length * unit.Length];
        for (var i = 0; i < data.Length; i += unit.Length)
        {
            unit.CopyTo(data.AsSpan(i));
        }

        return data;
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
