using System.Buffers;
using System.Text;

using TokenMetrics.Providers.Json;

namespace TokenMetrics.Providers.Rewriting;

/// <summary>For rewriters: reads a vendor's error body (any status that is not a success) and gives the app OpenAI's error
/// shape, <c>{"error":{"message","type","param","code"}}</c>, with the vendor's message and type.</summary>
/// <remarks>Understands <c>{"error":{"type","message"}}</c> (Anthropic, OpenAI-like), <c>{"message":...}</c> (AWS, with the type from
/// the <c>x-amzn-ErrorType</c> header) and <c>{"error":{"status","message"}}</c> (Google); anything else is passed as text.</remarks>
internal sealed class VendorErrorReader(int statusCode, string? typeFromHeaders, int maxBytes) : TokenUsageResponseReader, IDisposable
{
    private BoundedBody _body = new(Math.Min(maxBytes, 1 << 20));

    public override bool TransformsContent => true;

    public override string? TransformedMediaType => "application/json";

    public override void Write(ReadOnlySpan<byte> data) => _body.Write(data);

    public override void Transform(ReadOnlySpan<byte> data, IBufferWriter<byte> output, bool final)
    {
        ArgumentNullException.ThrowIfNull(output);
        Write(data);
        if (final)
        {
            var (message, type) = Describe();
            ErrorType = type;
            OpenAIAnswerWriter.WriteError(output, message, type);
        }
    }

    public override void Complete() => ErrorType ??= Describe().Type;

    public void Dispose() => _body.Dispose();

    internal (string Message, string Type) Describe()
    {
        var body = _body.Body;
        string? message = null;
        string? type = null;
        if (JsonText.TryGetTopLevelValue(body, "error"u8, out var error) && error.Length > 0 && error[0] == (byte)'{')
        {
            message = JsonText.TryGetTopLevelValue(error, "message"u8, out var m) ? JsonText.GetString(m) : null;
            type = JsonText.TryGetTopLevelValue(error, "type"u8, out var t) ? JsonText.GetString(t)
                : JsonText.TryGetTopLevelValue(error, "status"u8, out var s) ? JsonText.GetString(s) : null;
        }
        else if (JsonText.TryGetTopLevelValue(body, "message"u8, out var m2) || JsonText.TryGetTopLevelValue(body, "Message"u8, out m2))
        {
            message = JsonText.GetString(m2);
        }

        // AWS: "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/" -> "ThrottlingException".
        var headerType = typeFromHeaders?.Split(':')[0];
        type ??= string.IsNullOrEmpty(headerType) ? DefaultType(statusCode) : headerType;
        if (message is null)
        {
            message = body.IsEmpty ? $"The vendor answered HTTP {statusCode}." : Encoding.UTF8.GetString(body[..Math.Min(body.Length, 2048)]);
        }

        return (message, type);
    }

    private static string DefaultType(int statusCode) => statusCode switch
    {
        429 => "rate_limit_error",
        401 or 403 => "authentication_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };
}
