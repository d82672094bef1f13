using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace TokenMetrics.Testing.Internal;

/// <summary>DeepL text translation: <c>POST /v2/translate</c> with a JSON body (<c>text</c> array, <c>target_lang</c>, optional
/// <c>source_lang</c>, <c>model_type</c>, <c>show_billed_characters</c>).</summary>
/// <remarks>
/// <para>Answers <c>{"translations":[{"detected_source_language","text","billed_characters","model_type_used"}]}</c>, one entry per
/// input text. <c>billed_characters</c> is sent only when the request sets <c>show_billed_characters: true</c>, as DeepL does; it
/// is the number of Unicode code points of that source text, or the scenario's <c>PromptTokens</c> (<c>x-mock-prompt-tokens</c>)
/// for every translation. <c>model_type_used</c> is sent only when the request names a <c>model_type</c>. The translated text is
/// <c>[{target_lang}] {source}</c>, or the scenario's <c>AnswerText</c>.</para>
/// <para>The scenario's model-name conventions are read from <c>model_type</c>. Errors are <c>{"message": "..."}</c> (456 is
/// DeepL's "Quota exceeded"); a cut body is cut at half its bytes; gzip and response delays apply. Form-encoded requests are
/// not supported (answered with 400).</para>
/// </remarks>
internal sealed class DeepLMockProtocol : IMockProtocol
{
    public DeepLMockProtocol()
    {
        Routes =
        [
            new MockRoute("POST", static p => p == "/v2/translate", TranslateAsync, SelectModel: ModelType),
        ];
    }

    public IReadOnlyList<MockRoute> Routes { get; }

    public bool OwnsPath(string path) =>
        path.StartsWith("/v2/translate", StringComparison.Ordinal) || path.StartsWith("/v2/usage", StringComparison.Ordinal)
        || path.StartsWith("/v2/languages", StringComparison.Ordinal) || path.StartsWith("/v2/document", StringComparison.Ordinal)
        || path.StartsWith("/v2/glossaries", StringComparison.Ordinal);

    /// <summary>DeepL's error shape: <c>{"message": "..."}</c>.</summary>
    public byte[] ErrorBody(int statusCode, string? message) => JsonBytes.Write((statusCode, message), static (w, s) =>
    {
        w.WriteStartObject();
        w.WriteText("message", s.message ?? s.statusCode switch
        {
            403 => "Authorization failure, check auth_key",
            429 => "Too many requests",
            456 => "Quota Exceeded",
            _ => "The mock server was asked to fail this request.",
        });
        w.WriteEndObject();
    });

    private static string? ModelType(JsonElement? json, HttpContext http) =>
        json is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty("model_type", out var m) && m.ValueKind == JsonValueKind.String
            ? m.GetString()
            : null;

    private static async Task TranslateAsync(MockRequestContext context)
    {
        if (context.Json is not { ValueKind: JsonValueKind.Object } body)
        {
            throw new MockRequestException("Invalid request: expected a JSON body (form-encoded requests are not supported by the mock).");
        }

        if (!body.TryGetProperty("text", out var textList) || textList.ValueKind != JsonValueKind.Array || textList.GetArrayLength() == 0
            || textList.EnumerateArray().Any(static t => t.ValueKind != JsonValueKind.String))
        {
            throw new MockRequestException("Invalid request: Expected 'text' parameter to be an array of strings");
        }

        if (!body.TryGetProperty("target_lang", out var targetLang) || targetLang.ValueKind != JsonValueKind.String)
        {
            throw new MockRequestException("Value for 'target_lang' not supported.");
        }

        var scenario = context.Scenario;
        var target = targetLang.GetString()!.ToUpperInvariant();
        var source = body.TryGetProperty("source_lang", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()!.ToUpperInvariant() : "EN";
        var showBilled = body.TryGetProperty("show_billed_characters", out var b) && b.ValueKind == JsonValueKind.True;
        var modelUsed = scenario.ResponseModel ?? (context.Model is string model
            ? (model.StartsWith("prefer_", StringComparison.Ordinal) ? model["prefer_".Length..] : model)
            : null);
        var translations = textList.EnumerateArray().Select(t => t.GetString()!).Select(text => (
            Text: scenario.Source.AnswerText ?? $"[{target}] {text}",
            Billed: scenario.PromptTokens ?? text.EnumerateRunes().Count())).ToList();
        var json = JsonBytes.Write((source, translations, showBilled, modelUsed), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteStartArray("translations");
            foreach (var (text, billed) in s.translations)
            {
                w.WriteStartObject();
                w.WriteString("detected_source_language", s.source);
                w.WriteText("text", text);
                if (s.showBilled)
                {
                    w.WriteNumber("billed_characters", billed);
                }

                if (s.modelUsed is not null)
                {
                    w.WriteText("model_type_used", s.modelUsed);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        var writer = context.CreateWriter();
        await using var scope = writer.ConfigureAwait(false);
        await writer.WriteBodyAsync(200, "application/json", json, honourCut: true).ConfigureAwait(false);
    }
}
