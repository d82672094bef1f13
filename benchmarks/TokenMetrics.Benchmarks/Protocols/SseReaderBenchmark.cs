using System.Buffers;
using BenchmarkDotNet.Attributes;
using TokenMetrics.Providers.Anthropic;
using TokenMetrics.Providers.Gemini;
using TokenMetrics.Providers.OpenAI;
using TokenMetrics.Providers.Rewriting;
using TokenMetrics.Tests.Shared;

namespace TokenMetrics.Benchmarks.Protocols;

/// <summary>The stream readers alone, per event: a 1,000-event stream of each vendor format pushed through the reader the
/// handler would pick, in 16 KB reads (the app's read size in <c>SseEventOverheadBenchmark</c>), without the HTTP stack.</summary>
/// <remarks><c>Framing</c> is the SSE framing alone (no JSON work), the floor every format pays; <c>Reader</c> is the whole reader,
/// writing the app's bytes when it transforms (injected usage). Both are per event (<c>OperationsPerInvoke</c>).</remarks>
[MemoryDiagnoser]
public class SseReaderBenchmark
{
    private const int Events = 1000;
    private const int ReadSize = 16 * 1024;
    private readonly ArrayBufferWriter<byte> _output = new(1 << 20);
    private byte[] _stream = null!;

    [Params(SseStreamFormat.OpenAIChat, SseStreamFormat.OpenAIChatInjected, SseStreamFormat.OpenAIResponses, SseStreamFormat.Anthropic, SseStreamFormat.Gemini)]
    public SseStreamFormat Format { get; set; }

    [GlobalSetup]
    public void Setup() => _stream = SseStreamPayloads.Stream(Format, Events);

    [Benchmark(OperationsPerInvoke = Events)]
    public long Framing()
    {
        using var reader = new SseEventReader(1 << 20, captureRaw: Format == SseStreamFormat.OpenAIChatInjected);
        var sink = new CountingSink();
        for (var pos = 0; pos < _stream.Length; pos += ReadSize)
        {
            reader.Feed(_stream.AsSpan(pos, Math.Min(ReadSize, _stream.Length - pos)), sink);
        }

        reader.Complete(sink);
        return sink.Bytes;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long? Reader()
    {
        TokenUsageResponseReader reader = Format switch
        {
            SseStreamFormat.OpenAIChat => new OpenAIStreamReader(OpenAIOperation.ChatCompletions, 1 << 20, withholdInjectedUsage: false),
            SseStreamFormat.OpenAIChatInjected => new OpenAIStreamReader(OpenAIOperation.ChatCompletions, 1 << 20, withholdInjectedUsage: true),
            SseStreamFormat.OpenAIResponses => new OpenAIStreamReader(OpenAIOperation.Responses, 1 << 20, withholdInjectedUsage: false),
            SseStreamFormat.Anthropic => new AnthropicStreamReader(1 << 20),
            _ => new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true),
        };

        _output.ResetWrittenCount();
        for (var pos = 0; pos < _stream.Length; pos += ReadSize)
        {
            var read = _stream.AsSpan(pos, Math.Min(ReadSize, _stream.Length - pos));
            if (reader.TransformsContent)
            {
                reader.Transform(read, _output, final: false);
            }
            else
            {
                reader.Write(read);
            }
        }

        if (reader.TransformsContent)
        {
            reader.Transform([], _output, final: true);
        }
        else
        {
            reader.Complete();
        }

        var tokens = reader.Usage?.OutputTokenCount;
        reader.ResetOutputText();
        (reader as IDisposable)?.Dispose();
        return tokens;
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
