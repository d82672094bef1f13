using System.Threading;

namespace TokenMetrics.Internal;

/// <summary>Marks an <c>IChatClient</c> call in flight so that a meter beneath it (a metered <c>HttpClient</c> or another
/// <c>TokenMetricsChatClient</c>) knows it is not alone, and which logical operation and round it serves.</summary>
/// <remarks>
/// The rule for "one model round-trip = one record": the meter closest to the wire records. A meter beneath a chat-client call
/// records (with the chat client's attribution, client name, operation id and round index) and marks the scope; the chat client
/// then records nothing. A chat client over a non-HTTP or unmetered client records itself.
/// </remarks>
internal sealed class CallScope
{
    private static readonly AsyncLocal<CallScope?> CurrentScope = new();
    private readonly int _firstRound;
    private readonly bool _multiRound;
    private int _nextRound;
    private int _recordedBeneath;
    private BudgetReservation? _budget;

    /// <summary>Initializes a new instance of the <see cref="CallScope"/> class.</summary>
    /// <param name="clientName">The chat client's name.</param>
    /// <param name="attribution">The call's attribution, resolved once (its <c>ChatOptions</c> over the scope over baggage).</param>
    /// <param name="operationId">The logical operation.</param>
    /// <param name="firstRound">The round index of the first round-trip made inside this call.</param>
    /// <param name="multiRound">Whether this call makes several model round-trips (a tool loop beneath the chat client):
    /// each round-trip beneath then takes the next index; otherwise every round-trip beneath is round <paramref name="firstRound"/>.</param>
    /// <param name="genAIMetricsRecordedElsewhere">Whether an <c>OpenTelemetryChatClient</c> in the pipeline records the GenAI metrics.</param>
    public CallScope(string? clientName, TokenUsageAttribution? attribution, Guid operationId, int firstRound, bool multiRound, bool genAIMetricsRecordedElsewhere)
    {
        ClientName = clientName;
        Attribution = attribution;
        OperationId = operationId;
        GenAIMetricsRecordedElsewhere = genAIMetricsRecordedElsewhere;
        _firstRound = firstRound;
        _nextRound = firstRound;
        _multiRound = multiRound;
    }

    public static CallScope? Current
    {
        get => CurrentScope.Value;
        set => CurrentScope.Value = value;
    }

    public string? ClientName { get; }

    public TokenUsageAttribution? Attribution { get; }

    public Guid OperationId { get; }

    public bool GenAIMetricsRecordedElsewhere { get; }

    /// <summary>Gets the round index of the first round-trip made inside this call.</summary>
    public int FirstRound => _firstRound;

    /// <summary>Gets how many meters beneath recorded a round-trip of this call.</summary>
    public int RecordedBeneath => Volatile.Read(ref _recordedBeneath);

    /// <summary>Claims the round index for a round-trip a meter beneath is about to record, and marks the scope so the chat client
    /// does not record the call a second time.</summary>
    /// <returns>The round index.</returns>
    public int BeginRoundBeneath()
    {
        Interlocked.Increment(ref _recordedBeneath);
        return _multiRound ? Interlocked.Increment(ref _nextRound) - 1 : _firstRound;
    }

    /// <summary>Gets or sets what the chat-client call reserved; taken by the first record of the call (beneath or here).</summary>
    public BudgetReservation? Budget { get => Volatile.Read(ref _budget); set => Volatile.Write(ref _budget, value); }

    /// <summary>Takes the reservation, once.</summary>
    public BudgetReservation? TakeBudget() => _budget is null ? null : Interlocked.Exchange(ref _budget, null);
}
