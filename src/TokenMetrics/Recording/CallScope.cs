using System.Threading;

namespace TokenMetrics.Internal;

/// <summary>Marks an <c>IChatClient</c> call in flight so that a metered <c>HttpClient</c> beneath it knows it is not alone.</summary>
/// <remarks>
/// The rule for "one logical call = one record": the layer that sees the wire records. When the handler meters an HTTP
/// exchange made inside a chat-client call, it records (with the chat client's attribution and client name) and marks the
/// scope; the chat client then records nothing. A chat client over a non-HTTP or unmetered client records itself.
/// </remarks>
internal sealed class CallScope
{
    private static readonly AsyncLocal<CallScope?> CurrentScope = new();
    private int _httpExchanges;

    public CallScope(string? clientName, string? sessionId, TokenUsageAttribution? attribution)
    {
        ClientName = clientName;
        SessionId = sessionId;
        Attribution = attribution;
    }

    public static CallScope? Current
    {
        get => CurrentScope.Value;
        set => CurrentScope.Value = value;
    }

    public string? ClientName { get; }

    public string? SessionId { get; }

    public TokenUsageAttribution? Attribution { get; }

    public int HttpExchanges => Volatile.Read(ref _httpExchanges);

    public void MarkHttpExchange() => Interlocked.Increment(ref _httpExchanges);
}
