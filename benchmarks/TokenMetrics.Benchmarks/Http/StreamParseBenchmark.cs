using BenchmarkDotNet.Attributes;
using TokenMetrics.Providers.OpenAI;

namespace TokenMetrics.Benchmarks.Http;

/// <summary>The parser alone: a 200-event OpenAI chat stream pushed through the SSE reader in 4 KB reads; time and bytes per event.</summary>
[MemoryDiagnoser]
public class StreamParseBenchmark
{
    private readonly byte[] _stream = BenchmarkPayloads.ChatStream;

    [Benchmark(OperationsPerInvoke = BenchmarkPayloads.StreamEvents)]
    public long? OpenAIStream_PerEvent()
    {
        using var reader = new OpenAIStreamReader(OpenAIOperation.ChatCompletions, 1 << 20, withholdInjectedUsage: false);
        for (var pos = 0; pos < _stream.Length; pos += 4096)
        {
            reader.Write(_stream.AsSpan(pos, Math.Min(4096, _stream.Length - pos)));
        }

        reader.Complete();
        var tokens = reader.Usage?.InputTokenCount;
        reader.ResetOutputText();
        return tokens;
    }

    [Benchmark]
    public long? OpenAIJson_2KB()
    {
        using var reader = new OpenAIJsonReader(8 << 20);
        reader.Write(BenchmarkPayloads.ChatJson);
        reader.Complete();
        reader.ResetOutputText();
        return reader.Usage?.InputTokenCount;
    }
}
