using System.Text.Json;
using TokenMetrics.Providers.Rewriting;

namespace TokenMetrics.Providers.Gemini;

/// <summary>Meters a rewritten Gemini answer like <see cref="GeminiResponseReader"/> and writes the app's OpenAI answer:
/// <c>chat.completion.chunk</c> events as Gemini's chunks arrive (text, thoughts as <c>reasoning_content</c>, function calls as
/// tool calls with generated ids), or one <c>chat.completion</c>; Gemini errors become OpenAI error bodies or events.</summary>
internal sealed class GeminiRewriteReader : GeminiResponseReader
{
    private readonly RewrittenAnswer _rewritten;
    private readonly OpenAIAnswerBuilder _answer;

    public GeminiRewriteReader(DocumentFraming framing, int maxDocumentBytes, RewriteState state, int status)
        : base(framing, maxDocumentBytes, state.Stream)
    {
        Answer = _rewritten = new RewrittenAnswer(state, status, "The Gemini API");
        _answer = _rewritten.Builder;
    }

    protected override void OnDocument(ReadOnlySpan<byte> json, ReadOnlySpan<byte> eventType)
    {
        base.OnDocument(json, eventType);
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        if (root.TryGetProperty("error", out var error))
        {
            var message = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String
                ? m.GetString()
                : error.ToString();
            _rewritten.VendorError(Output, message, ErrorType ?? "server_error");
            return;
        }

        if (!_rewritten.Success)
        {
            return;
        }

        _answer.Start(Output, ResponseId, ResponseModel);
        if (!root.TryGetProperty("candidates", out var candidates) || candidates.ValueKind != JsonValueKind.Array || candidates.GetArrayLength() == 0)
        {
            return;
        }

        var candidate = candidates[0];
        if (candidate.TryGetProperty("content", out var content) && content.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in parts.EnumerateArray())
            {
                if (part.TryGetProperty("functionCall", out var call))
                {
                    var name = call.TryGetProperty("name", out var n) ? n.GetString() : null;
                    var args = call.TryGetProperty("args", out var a) ? JsonNodes.ArgumentsText(a) : "{}";
                    var id = call.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
                    _answer.ToolCall(Output, null, id, name, args);
                }
                else if (part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                {
                    var thought = part.TryGetProperty("thought", out var t) && t.ValueKind == JsonValueKind.True;
                    if (thought)
                    {
                        _answer.Reasoning(Output, text.GetString()!);
                    }
                    else
                    {
                        _answer.Text(Output, text.GetString()!);
                    }
                }
            }
        }

        if (candidate.TryGetProperty("finishReason", out var finish) && finish.ValueKind == JsonValueKind.String)
        {
            _answer.VendorFinishReason = finish.GetString();
        }
    }

    protected override void OnEnd()
    {
        base.OnEnd();
        _rewritten.End(Output, Completed, ErrorType, Usage);
    }
}
