using System.Diagnostics;
using System.Text.Json;

namespace TokenMetrics.Testing.Internal;

/// <summary><c>POST /v1/completions</c>: the legacy <c>text_completion</c> API, plain and streamed (with include_usage like chat).</summary>
internal static class OpenAICompletions
{
    private static readonly string[] PromptMembers = ["prompt", "suffix"];

    public static async Task HandleAsync(MockRequestContext context)
    {
        var request = OpenAIRequestInfo.Read(context, PromptMembers, CountPromptTokens);
        var scenario = context.Scenario;
        var id = request.Id("cmpl-");
        var writer = context.CreateWriter();
        await using var writerScope = writer.ConfigureAwait(false);
        if (!request.Stream)
        {
            var body = JsonBytes.Write((request, id), static (w, s) =>
            {
                WriteHead(w, s.id, s.request);
                WriteChoice(w, s.request.Scenario.AnswerText, "stop");
                w.WriteEndArray();
                w.WriteText("model", s.request.ResponseModel);
                w.WriteString("system_fingerprint", "fp_mock");
                s.request.WriteUsage(w, s.request.Scenario.CompletionTokensFor(s.request.Scenario.Chunks.Count), details: false);
                w.WriteEndObject();
            });
            await writer.WriteBodyAsync(200, "application/json", body, honourCut: true).ConfigureAwait(false);
            return;
        }

        await writer.StartEventStreamAsync().ConfigureAwait(false);
        var sent = 0;
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; scenario.Endless || i < scenario.Chunks.Count; i++)
        {
            if (scenario.Endless && (stopwatch.Elapsed >= scenario.MaxStreamDuration || context.CancellationToken.IsCancellationRequested))
            {
                break;
            }

            if (sent == scenario.CutAfterChunks)
            {
                await OpenAIChatCompletions.CutAsync(writer, scenario).ConfigureAwait(false);
                return;
            }

            if (sent == scenario.StreamErrorAfterChunks)
            {
                await OpenAIChatCompletions.WriteStreamErrorAsync(writer).ConfigureAwait(false);
                return;
            }

            await writer.DelayChunkAsync().ConfigureAwait(false);
            var text = scenario.Chunks[i % scenario.Chunks.Count];
            sent++;
            await writer.WriteDataAsync(Chunk(request, id, text, null)).ConfigureAwait(false);
        }

        if (sent <= scenario.CutAfterChunks)
        {
            await OpenAIChatCompletions.CutAsync(writer, scenario).ConfigureAwait(false);
            return;
        }

        if (sent <= scenario.StreamErrorAfterChunks)
        {
            await OpenAIChatCompletions.WriteStreamErrorAsync(writer).ConfigureAwait(false);
            return;
        }

        await writer.WriteDataAsync(Chunk(request, id, string.Empty, "stop")).ConfigureAwait(false);
        if (request.IncludeUsage)
        {
            var usage = JsonBytes.Write((request, id, sent), static (w, s) =>
            {
                WriteHead(w, s.id, s.request);
                w.WriteEndArray();
                w.WriteText("model", s.request.ResponseModel);
                w.WriteString("system_fingerprint", "fp_mock");
                s.request.WriteUsage(w, s.request.Scenario.CompletionTokensFor(s.sent), details: false);
                w.WriteEndObject();
            });
            await writer.WriteDataAsync(usage).ConfigureAwait(false);
        }

        await writer.WriteDoneAsync().ConfigureAwait(false);
        await writer.CompleteAsync().ConfigureAwait(false);
    }

    private static byte[] Chunk(OpenAIRequestInfo request, string id, string text, string? finishReason) =>
        JsonBytes.Write((request, id, text, finishReason), static (w, s) =>
        {
            WriteHead(w, s.id, s.request);
            WriteChoice(w, s.text, s.finishReason);
            w.WriteEndArray();
            w.WriteText("model", s.request.ResponseModel);
            w.WriteString("system_fingerprint", "fp_mock");
            if (s.request.IncludeUsage)
            {
                w.WriteNull("usage");
            }

            w.WriteEndObject();
        });

    private static void WriteHead(Utf8JsonWriter w, string id, OpenAIRequestInfo request)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "text_completion");
        w.WriteNumber("created", request.Created);
        w.WriteStartArray("choices");
    }

    private static void WriteChoice(Utf8JsonWriter w, string text, string? finishReason)
    {
        w.WriteStartObject();
        w.WriteText("text", text);
        w.WriteNumber("index", 0);
        w.WriteNull("logprobs");
        if (finishReason is null)
        {
            w.WriteNull("finish_reason");
        }
        else
        {
            w.WriteString("finish_reason", finishReason);
        }

        w.WriteEndObject();
    }

    private static int CountPromptTokens(JsonElement body)
    {
        var tokens = 0;
        if (body.TryGetProperty("prompt", out var prompt))
        {
            if (prompt.ValueKind == JsonValueKind.String)
            {
                tokens += OpenAIRequestInfo.TextTokens(prompt.GetString());
            }
            else if (prompt.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in prompt.EnumerateArray())
                {
                    tokens += item.ValueKind == JsonValueKind.String ? OpenAIRequestInfo.TextTokens(item.GetString()) : 1;
                }
            }
        }

        return Math.Max(tokens, 1);
    }
}
