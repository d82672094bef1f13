using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace TokenMetrics.Testing.Internal;

/// <summary>The OpenAI REST API (<c>/v1/...</c>), in the exact wire format of api.openai.com.</summary>
internal sealed class OpenAIProtocol : IMockProtocol
{
    public OpenAIProtocol()
    {
        Routes =
        [
            new MockRoute("POST", static p => p == "/v1/chat/completions", OpenAIChatCompletions.HandleAsync),
            new MockRoute("POST", static p => p == "/v1/responses", OpenAIResponses.HandleAsync),
            new MockRoute("POST", static p => p == "/v1/completions", OpenAICompletions.HandleAsync),
            new MockRoute("POST", static p => p == "/v1/embeddings", OpenAIEmbeddings.HandleAsync),
            new MockRoute("GET", static p => p == "/v1/models", OpenAIModels.ListAsync, Generates: false),
            new MockRoute("GET", static p => p.StartsWith("/v1/models/", StringComparison.Ordinal), OpenAIModels.GetAsync, Generates: false),
        ];
    }

    public IReadOnlyList<MockRoute> Routes { get; }

    public bool OwnsPath(string path) => path.StartsWith("/v1/", StringComparison.Ordinal);

    public byte[] ErrorBody(int statusCode, string? message) => ErrorBody(statusCode, message, code: DefaultCode(statusCode));

    /// <summary>Writes <c>{"error":{"message":...,"type":...,"param":null,"code":...}}</c>.</summary>
    public static byte[] ErrorBody(int statusCode, string? message, string? code) =>
        JsonBytes.Write((statusCode, message, code), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            WriteErrorMembers(w, s.statusCode, s.message, s.code);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    /// <summary>Writes the members of an OpenAI error object.</summary>
    public static void WriteErrorMembers(Utf8JsonWriter w, int statusCode, string? message, string? code)
    {
        w.WriteText("message", message ?? DefaultMessage(statusCode));
        w.WriteString("type", DefaultType(statusCode));
        w.WriteNull("param");
        if (code is null)
        {
            w.WriteNull("code");
        }
        else
        {
            w.WriteString("code", code);
        }
    }

    /// <summary>The message of an in-stream server error.</summary>
    public const string ServerErrorMessage = "The server had an error while processing your request. Sorry about that!";

    /// <summary>The raw body of the request's <c>model</c>, or null.</summary>
    public static string? ReadModel(JsonElement? json, HttpContext context) =>
        json is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String
            ? model.GetString()
            : null;

    private static string DefaultType(int statusCode) => statusCode switch
    {
        429 => "requests",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    private static string? DefaultCode(int statusCode) => statusCode switch
    {
        401 => "invalid_api_key",
        404 => "model_not_found",
        429 => "rate_limit_exceeded",
        _ => null,
    };

    private static string DefaultMessage(int statusCode) => statusCode switch
    {
        400 => "Invalid request.",
        401 => "Incorrect API key provided: test. You can find your API key at https://platform.openai.com/account/api-keys.",
        403 => "You are not allowed to sample from this model.",
        404 => "The model does not exist or you do not have access to it.",
        429 => "Rate limit reached for requests. Please try again later.",
        503 => "The engine is currently overloaded, please try again later.",
        >= 500 => ServerErrorMessage,
        _ => "The mock server was asked to fail this request.",
    };
}
