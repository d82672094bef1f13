using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace TokenMetrics.Tokenizer.Tests;

public static class TestFiles
{
    public static readonly string[] Encodings = ["cl100k_base", "o200k_base", "p50k_base", "r50k_base"];

    public static string Dir => Path.Combine(AppContext.BaseDirectory, "TestData");

    public static byte[] Corpus(string file)
    {
        using var gz = new GZipStream(File.OpenRead(Path.Combine(Dir, "corpus", file + ".gz")), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    public static IEnumerable<JsonElement> JsonLines(string path)
    {
        Stream stream = File.OpenRead(Path.Combine(Dir, path));
        if (path.EndsWith(".gz", StringComparison.Ordinal))
        {
            stream = new GZipStream(stream, CompressionMode.Decompress);
        }

        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                yield return JsonDocument.Parse(line).RootElement.Clone();
            }
        }
    }

    public static int[] Ids(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];

    /// <summary>SHA-256 over the ids as little-endian uint32, as make-goldens.js computes it.</summary>
    public static string HashIds(ReadOnlySpan<int> ids)
    {
        var bytes = new byte[ids.Length * 4];
        for (var i = 0; i < ids.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), (uint)ids[i]);
        }

        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    /// <summary>Cuts after the first '\n' at or past 4096 bytes, as make-goldens.js does.</summary>
    public static IEnumerable<(int Start, int Length)> Chunks(byte[] data)
    {
        var start = 0;
        while (start < data.Length)
        {
            var nl = data.AsSpan(Math.Min(start + 4096, data.Length)).IndexOf((byte)'\n');
            var end = nl < 0 ? data.Length : Math.Min(start + 4096, data.Length) + nl + 1;
            yield return (start, end - start);
            start = end;
        }
    }
}
