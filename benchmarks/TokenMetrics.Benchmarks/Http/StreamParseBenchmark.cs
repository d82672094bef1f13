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

    /// <summary>The SSE framing alone (no JSON work), to see where the per-event time goes.</summary>
    [Benchmark(OperationsPerInvoke = BenchmarkPayloads.StreamEvents)]
    public long SseFramingOnly_PerEvent()
    {
        using var reader = new SseEventReader();
        var sink = new CountingSink();
        for (var pos = 0; pos < _stream.Length; pos += 4096)
        {
            reader.Feed(_stream.AsSpan(pos, Math.Min(4096, _stream.Length - pos)), sink);
        }

        reader.Complete(sink);
        return sink.Bytes;
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

    private sealed class CountingSink : ISseEventSink
    {
        public long Bytes;

        public void OnEvent(SseEvent sseEvent) => Bytes += sseEvent.Data.Length;

        public void OnPassthrough(ReadOnlySpan<byte> raw)
        {
        }
    }
}
