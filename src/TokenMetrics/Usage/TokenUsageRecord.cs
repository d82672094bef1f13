using System.Collections.Generic;

namespace TokenMetrics;

/// <summary>One logical LLM call: who called which model, how many tokens it took, and how it ended.</summary>
/// <remarks>
/// <para>Records are immutable once recorded. <see cref="Id"/> is unique per call and stable, so stores and exporters
/// can de-duplicate replays.</para>
/// <para>Never carries credentials: <see cref="Endpoint"/> is scheme, host, port and path only, without query or user info.</para>
/// </remarks>
public sealed record TokenUsageRecord
{
    // Optional numbers are kept as plain values with a "none" marker rather than as nullables (int? takes 8 bytes, TimeSpan? and
    // Guid? 16 and 24 after padding): a record per call, so 32 bytes less per call. The markers are never real values (a
    // negative port, status or round; Guid.Empty as an operation id).
    private const int NoInt = int.MinValue;
    private const long NoTicks = long.MinValue;

    private decimal? _cost;
    private string? _currency;
    private string? _pricedModel;
    private int _httpStatusCode = NoInt;
    private int _serverPort = NoInt;
    private int _roundIndex = NoInt;
    private long _timeToFirstChunkTicks = NoTicks;
    private Guid _operationId;

    /// <summary>Gets the record's unique, time-ordered identifier (a version 7 GUID), used for de-duplication.</summary>
    public Guid Id { get; init; } = Internal.RecordIds.NewVersion7();

    /// <summary>Gets when the call started, from the configured <see cref="TimeProvider"/>.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>Gets the provider, as an OpenTelemetry <c>gen_ai.provider.name</c> value (<c>openai</c>, <c>anthropic</c>, ...).</summary>
    public string? Provider { get; init; }

    /// <summary>Gets the operation, as an OpenTelemetry <c>gen_ai.operation.name</c> value (<c>chat</c>, <c>embeddings</c>, <c>text_completion</c>, ...).</summary>
    public string? Operation { get; init; }

    /// <summary>Gets the model the app asked for.</summary>
    public string? RequestModel { get; init; }

    /// <summary>Gets the model the request was routed to when model mapping changed it; otherwise <see langword="null"/>.</summary>
    public string? RoutedModel { get; init; }

    /// <summary>Gets the model the vendor says answered (for example a dated snapshot).</summary>
    public string? ResponseModel { get; init; }

    /// <summary>Gets the vendor's response identifier, when it gave one.</summary>
    public string? ResponseId { get; init; }

    /// <summary>Gets a value indicating whether the answer was streamed.</summary>
    public bool IsStreaming { get; init; }

    /// <summary>Gets how the call ended.</summary>
    public TokenUsageStatus Status { get; init; }

    /// <summary>Gets a low-cardinality error type when <see cref="Status"/> is not <see cref="TokenUsageStatus.Ok"/>: an exception's full type name, an HTTP status code, or the vendor's error type.</summary>
    public string? ErrorType { get; init; }

    /// <summary>Gets the HTTP status code, when the call went over HTTP and TokenMetrics saw it.</summary>
    public int? HttpStatusCode { get => _httpStatusCode == NoInt ? null : _httpStatusCode; init => _httpStatusCode = value ?? NoInt; }

    /// <summary>Gets the time from sending the request to the end of the answer (or to cancellation or error).</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Gets the time from sending the request to the first chunk of the answer; streamed calls only.</summary>
    public TimeSpan? TimeToFirstChunk { get => _timeToFirstChunkTicks == NoTicks ? null : new TimeSpan(_timeToFirstChunkTicks); init => _timeToFirstChunkTicks = value?.Ticks ?? NoTicks; }

    /// <summary>Gets the endpoint called: scheme, host, port and path; never query strings or credentials.</summary>
    public string? Endpoint { get; init; }

    /// <summary>Gets the server host name (OpenTelemetry <c>server.address</c>).</summary>
    public string? ServerAddress { get; init; }

    /// <summary>Gets the server port (OpenTelemetry <c>server.port</c>).</summary>
    public int? ServerPort { get => _serverPort == NoInt ? null : _serverPort; init => _serverPort = value ?? NoInt; }

    /// <summary>Gets the token counts; see <see cref="Source"/> for where they came from.</summary>
    public TokenUsage Usage { get; init; } = TokenUsage.Empty;

    /// <summary>Gets where <see cref="Usage"/> came from: reported by the vendor, estimated, or missing.</summary>
    public TokenUsageSource Source { get; init; }

    /// <summary>Gets how estimated counts were made (for example <c>o200k_base</c> or <c>heuristic</c>); <see langword="null"/> unless <see cref="Source"/> is <see cref="TokenUsageSource.Estimated"/>.</summary>
    public string? EstimationMethod { get; init; }

    /// <summary>Gets the end user the call was made for.</summary>
    public string? UserId { get; init; }

    /// <summary>Gets the consumer (API key owner, tenant or calling service) the call is attributed to.</summary>
    public string? Consumer { get; init; }

    /// <summary>Gets the conversation or agent session the call belongs to.</summary>
    public string? SessionId { get; init; }

    /// <summary>Gets the product feature the call served (for example <c>summarize</c> or <c>support-bot</c>).</summary>
    public string? Feature { get; init; }

    /// <summary>Gets free-form attribution tags (team, environment...) and configured dimensions.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Gets what the call cost, in <see cref="Currency"/>, priced from <see cref="Usage"/> with the record's own model;
    /// <see langword="null"/> when the price is unknown (never a silent 0) or there is no usage to price.</summary>
    public decimal? Cost { get => _cost; init => _cost = value; }

    /// <summary>Gets the ISO 4217 currency of <see cref="Cost"/> (<c>USD</c> for the shipped catalog).</summary>
    public string? Currency { get => _currency; init => _currency = value; }

    /// <summary>Gets the price-catalog entry the model resolved to (for example <c>gpt-4o</c> for <c>gpt-4o-2024-08-06</c>);
    /// <see langword="null"/> when the record was not priced.</summary>
    public string? PricedModel { get => _pricedModel; init => _pricedModel = value; }

    /// <summary>Gets the captured conversation content (question, answer, reasoning, tool calls); <see langword="null"/> unless
    /// content capture is switched on. Never put on metrics.</summary>
    public TokenUsageContent? Content { get; init; }

    /// <summary>Gets the name of the <c>HttpClient</c> (from <c>IHttpClientFactory</c>) or chat client that made the call.</summary>
    public string? ClientName { get; init; }

    /// <summary>Gets the layer that produced the record.</summary>
    public TokenUsageLayer Layer { get; init; }

    /// <summary>Gets the logical operation this model round-trip belongs to: every round of one tool-calling loop (for example
    /// Microsoft.Extensions.AI's <c>UseFunctionInvocation()</c>) carries the same value; <see langword="null"/> when no chat client
    /// saw the call (a bare metered <c>HttpClient</c>).</summary>
    /// <remarks>Each round-trip is billed on its own, so each is a record; sum the records of one operation for its total.</remarks>
    public Guid? OperationId { get => _operationId == Guid.Empty ? null : _operationId; init => _operationId = value ?? Guid.Empty; }

    /// <summary>Gets the zero-based index of this model round-trip within <see cref="OperationId"/> (0 for the first request,
    /// 1 for the request that sends the first tool results back, ...); <see langword="null"/> when unknown or when the record
    /// spans several rounds (a non-streamed tool loop metered above the loop, with nothing metered beneath it).</summary>
    public int? RoundIndex { get => _roundIndex == NoInt ? null : _roundIndex; init => _roundIndex = value ?? NoInt; }

    /// <summary>Gets a value indicating whether an <c>OpenTelemetryChatClient</c> in the same pipeline already records the OpenTelemetry
    /// GenAI metrics of this call, so TokenMetrics' own <c>gen_ai.*</c> instruments skip it (no double count).</summary>
    /// <remarks>Not serialized: it only steers the in-process meter exporter.</remarks>
    internal bool GenAIMetricsRecordedElsewhere { get; init; }

    /// <summary>Gets the dimension labels for the metrics (already bounded by each dimension's guard), or <see langword="null"/>.</summary>
    /// <remarks>Not serialized: it only steers the in-process meter exporter; stores get dimensions through <see cref="Tags"/>.</remarks>
    internal KeyValuePair<string, object?>[]? MetricTags { get; init; }

    /// <summary>Gets or sets the trace span of this call: TokenMetrics' own (stopped when the record is delivered, after any
    /// estimate) or an existing GenAI span to enrich. Copied by <see langword="with"/>; never serialized.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    internal System.Diagnostics.Activity? Span { get; set; }

    /// <summary>Gets or sets what the call reserved against budgets; reconciled (and cleared) when the record is delivered.</summary>
    internal Internal.BudgetReservation? Budget { get; set; }

    /// <summary>Prices the record in place, before any exporter or callback sees it (the pipeline's last step on the app's side):
    /// no copy of the record per call.</summary>
    internal void SetCost(decimal? cost, string? currency, string? pricedModel)
    {
        _cost = cost;
        _currency = currency;
        _pricedModel = pricedModel;
    }
}
