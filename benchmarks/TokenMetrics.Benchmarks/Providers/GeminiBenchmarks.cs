using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using TokenMetrics.Providers.Cohere;
using TokenMetrics.Providers.DashScope;
using TokenMetrics.Providers.DeepL;
using TokenMetrics.Providers.Gemini;
using TokenMetrics.Providers.Ollama;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Benchmarks.Providers;

/// <summary>Usage extraction per vendor: a non-streamed body, and a 200-event stream fed in 4 KB reads (reported per event).</summary>
[MemoryDiagnoser]
public class GeminiBenchmarks
{
    private const int Events = 200;

    private static readonly byte[] GeminiBody = Body(
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"" + Text(1500) + "\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}]," +
        "\"usageMetadata\":{\"promptTokenCount\":1200,\"candidatesTokenCount\":400,\"totalTokenCount\":1700,\"cachedContentTokenCount\":1024,\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":1200}],\"thoughtsTokenCount\":100},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"abc\"}");

    private static readonly byte[] GeminiSse = Stream(i =>
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" word" + i + "\"}],\"role\":\"model\"}" + (i == Events - 1 ? ",\"finishReason\":\"STOP\"" : string.Empty) + ",\"index\":0}]," +
        "\"usageMetadata\":{\"promptTokenCount\":120,\"candidatesTokenCount\":" + (i + 1) + ",\"totalTokenCount\":" + (121 + i) + ",\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":120}]},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"abc\"}\r\n\r\n");

    private static readonly byte[] GeminiArray = Body("[" + string.Join(",\r\n", Enumerable.Range(0, Events).Select(i =>
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" word" + i + "\"}],\"role\":\"model\"}" + (i == Events - 1 ? ",\"finishReason\":\"STOP\"" : string.Empty) + ",\"index\":0}]," +
        "\"usageMetadata\":{\"promptTokenCount\":120,\"candidatesTokenCount\":" + (i + 1) + ",\"totalTokenCount\":" + (121 + i) + "},\"modelVersion\":\"gemini-2.5-flash\"}")) + "]");

    private static readonly byte[] DashScopeBody = Body("{\"output\":{\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"role\":\"assistant\",\"content\":\"" + Text(1500) + "\"}}]},\"usage\":{\"total_tokens\":520,\"output_tokens\":400,\"input_tokens\":120},\"request_id\":\"r\"}");

    private static readonly byte[] DashScopeSse = Stream(i =>
        "id:" + (i + 1) + "\nevent:result\n:HTTP_STATUS/200\ndata:{\"output\":{\"choices\":[{\"message\":{\"content\":\" word" + i + "\",\"role\":\"assistant\"},\"finish_reason\":\"" + (i == Events - 1 ? "stop" : "null") + "\"}]},\"usage\":{\"total_tokens\":" + (121 + i) + ",\"output_tokens\":" + (i + 1) + ",\"input_tokens\":120},\"request_id\":\"r\"}\n\n");

    private static readonly byte[] OllamaBody = Body("{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"" + Text(1500) + "\"},\"done_reason\":\"stop\",\"done\":true,\"total_duration\":1,\"prompt_eval_count\":120,\"eval_count\":400}");

    private static readonly byte[] OllamaNdjson = Stream(i => i == Events - 1
        ? "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,\"prompt_eval_count\":120,\"eval_count\":199}\n"
        : "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\" word" + i + "\"},\"done\":false}\n");

    private static readonly byte[] CohereBody = Body("{\"id\":\"c\",\"message\":{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"" + Text(1500) + "\"}]},\"finish_reason\":\"COMPLETE\",\"usage\":{\"billed_units\":{\"input_tokens\":17,\"output_tokens\":400},\"tokens\":{\"input_tokens\":215,\"output_tokens\":400}}}");

    private static readonly byte[] CohereSse = Stream(i => i == Events - 1
        ? "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"COMPLETE\",\"usage\":{\"billed_units\":{\"input_tokens\":17,\"output_tokens\":199},\"tokens\":{\"input_tokens\":215,\"output_tokens\":199}}}}\n\n"
        : "event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\" word" + i + "\"}}}}\n\n");

    private static readonly byte[] DeepLBody = Body("{\"translations\":[{\"detected_source_language\":\"EN\",\"text\":\"" + Text(1500) + "\",\"billed_characters\":1500}]}");

    [Benchmark]
    public long? Gemini_Body() => Run(new GeminiResponseReader(DocumentFraming.Objects, 8 << 20, streaming: false), GeminiBody);

    [Benchmark(OperationsPerInvoke = Events)]
    public long? Gemini_Sse_PerEvent() => Run(new GeminiResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true), GeminiSse);

    [Benchmark(OperationsPerInvoke = Events)]
    public long? Gemini_JsonArray_PerEvent() => Run(new GeminiResponseReader(DocumentFraming.Objects, 1 << 20, streaming: true), GeminiArray);

    [Benchmark]
    public long? DashScope_Body() => Run(new DashScopeResponseReader(DocumentFraming.Objects, 8 << 20, streaming: false), DashScopeBody);

    [Benchmark(OperationsPerInvoke = Events)]
    public long? DashScope_Sse_PerEvent() => Run(new DashScopeResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true), DashScopeSse);

    [Benchmark]
    public long? Ollama_Body() => Run(new OllamaResponseReader(8 << 20), OllamaBody);

    [Benchmark(OperationsPerInvoke = Events)]
    public long? Ollama_Ndjson_PerEvent() => Run(new OllamaResponseReader(1 << 20), OllamaNdjson);

    [Benchmark]
    public long? Cohere_Body() => Run(new CohereResponseReader(DocumentFraming.Objects, 8 << 20, streaming: false), CohereBody);

    [Benchmark(OperationsPerInvoke = Events)]
    public long? Cohere_Sse_PerEvent() => Run(new CohereResponseReader(DocumentFraming.Sse, 1 << 20, streaming: true), CohereSse);

    [Benchmark]
    public long? DeepL_Body()
    {
        using var reader = new DeepLResponseReader(8 << 20);
        reader.Write(DeepLBody);
        reader.Complete();
        return reader.Usage?.InputTokenDetails?.Count;
    }

    private static long? Run(JsonDocumentReader reader, byte[] body)
    {
        using (reader)
        {
            for (var pos = 0; pos < body.Length; pos += 4096)
            {
                reader.Write(body.AsSpan(pos, Math.Min(4096, body.Length - pos)));
            }

            reader.Complete();
            var tokens = reader.Usage?.OutputTokenCount;
            reader.ResetOutputText();
            return tokens;
        }
    }

    private static string Text(int length) => string.Concat(Enumerable.Repeat("lorem ipsum ", (length / 12) + 1))[..length];

    private static byte[] Body(string json) => Encoding.UTF8.GetBytes(json);

    private static byte[] Stream(Func<int, string> evt) =>
        Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, Events).Select(i => evt(i).ToString(CultureInfo.InvariantCulture))));
}
