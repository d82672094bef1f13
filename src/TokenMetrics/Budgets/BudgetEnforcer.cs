using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace TokenMetrics.Internal;

/// <summary>Checks and reserves calls against the budgets in force, and reconciles reservations with the records: one home for
/// both layers (the handler and the chat client).</summary>
internal sealed partial class BudgetEnforcer
{
    private const decimal Micros = 1_000_000m;
    private readonly TokenUsageRecorder _recorder;
    private readonly ILogger _logger;
    private readonly Lock _storeLock = new();
    private Func<ITokenUsageBudgetStore> _storeFactory;
    private ITokenUsageBudgetStore? _store;
    private Plan? _plan;
    private long _allowed;
    private long _rejected;
    private long _failedOpen;
    private long _failedClosed;

    public BudgetEnforcer(TokenUsageRecorder recorder, ILogger logger)
    {
        _recorder = recorder;
        _logger = logger;
        _storeFactory = () => new TokenUsageInProcessBudgetStore(recorder.TimeProvider);
        var meter = recorder.Meter;
        _ = meter.CreateObservableCounter("tokenmetrics.budget.checks", CheckMeasurements, "{call}", "Budget checks by outcome: allowed, rejected, failed_open, failed_closed (store failed or timed out).");
        _ = meter.CreateObservableGauge("tokenmetrics.budget.remaining", RemainingMeasurements, null, "What each budget limit had left at its last check (tokens, or cost in the catalog's currency); labelled by budget and limit, never by subject.");
    }

    public long Allowed => Interlocked.Read(ref _allowed);

    public long Rejected => Interlocked.Read(ref _rejected);

    public long FailedOpen => Interlocked.Read(ref _failedOpen);

    public long FailedClosed => Interlocked.Read(ref _failedClosed);

    /// <summary>Gets the counter store, created on first use (a shared store may connect on creation).</summary>
    public ITokenUsageBudgetStore Store
    {
        get
        {
            if (Volatile.Read(ref _store) is { } store)
            {
                return store;
            }

            lock (_storeLock)
            {
                return _store ??= _storeFactory();
            }
        }
    }

    /// <summary>Sets where the store comes from (dependency injection); used at first check.</summary>
    public void UseStore(Func<ITokenUsageBudgetStore> factory)
    {
        lock (_storeLock)
        {
            _storeFactory = factory;
            _store = null;
        }
    }

    /// <summary>Reserves the call against every budget that applies, all or nothing.</summary>
    /// <returns>The reservation to reconcile (or <see langword="null"/> when nothing applied), or the rejection.</returns>
    public async ValueTask<(BudgetReservation? Reservation, BudgetRejection? Rejection)> ReserveAsync(
        IReadOnlyList<TokenUsageBudget> budgets, BudgetCall call, long inputTokens, long maxOutputTokens, CancellationToken cancellationToken)
    {
        var plan = GetPlan(budgets);
        var tokens = inputTokens + maxOutputTokens;
        long? costMicros = null;
        var store = Store;
        List<BudgetReservation.Entry>? taken = null;
        foreach (var limit in plan.Limits)
        {
            var subject = limit.Budget.Subject == TokenUsageBudgetSubject.Global ? "*" : call.SubjectOf(limit.Budget);
            if (subject is null)
            {
                continue; // the call has no such subject: this budget does not apply
            }

            long amount;
            if (limit.IsCost)
            {
                costMicros ??= EstimateCostMicros(call, inputTokens, maxOutputTokens);
                amount = costMicros.Value;
            }
            else
            {
                amount = tokens;
            }

            var key = limit.Budget.Subject == TokenUsageBudgetSubject.Global ? limit.GlobalKey : limit.KeyPrefix + subject;
            TokenUsageBudgetCheck check;
            try
            {
                var pending = store.TryConsumeAsync(key, amount, limit.Amount, limit.Window, cancellationToken);
                check = pending.IsCompletedSuccessfully
                    ? pending.Result
                    : await pending.AsTask().WaitAsync(_recorder.Options.BudgetStoreTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                GiveBack(store, taken); // the app cancelled: nothing stays reserved, the cancellation is the app's
                throw;
            }
            catch (Exception ex)
            {
                if (!limit.Budget.FailClosed)
                {
                    // Fail open: this counter is not reserved (nor reconciled); the others still count.
                    Interlocked.Increment(ref _failedOpen);
                    LogStoreFailed(_logger, limit.Budget.Name, "open", ex);
                    continue;
                }

                Interlocked.Increment(ref _failedClosed);
                LogStoreFailed(_logger, limit.Budget.Name, "closed", ex);
                GiveBack(store, taken);
                return (null, new BudgetRejection(limit.Budget, Display(limit, subject), "store_unavailable", limit, 0, TimeSpan.FromSeconds(1), call.IsAnthropic));
            }

            limit.LastRemaining = check.Remaining;
            if (!check.Allowed)
            {
                Interlocked.Increment(ref _rejected);
                GiveBack(store, taken);
                LogRejected(_logger, limit.Budget.Name, limit.Name);
                return (null, new BudgetRejection(limit.Budget, Display(limit, subject), limit.Name, limit, check.Remaining, check.ResetAfter, call.IsAnthropic));
            }

            (taken ??= []).Add(new BudgetReservation.Entry(key, limit.Window, amount, limit.IsCost));
        }

        Interlocked.Increment(ref _allowed);
        return (taken is null ? null : new BudgetReservation(this, store, taken.ToArray()), null);
    }

    internal void ReportReconcileFailure(Exception ex) => _recorder.ReportInternalError("Budget.Reconcile", ex);

    /// <summary>Reads <c>max_tokens</c>, <c>max_completion_tokens</c> or <c>max_output_tokens</c> (top level) from a JSON request body.</summary>
    internal static long ReadMaxOutputTokens(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(json, new System.Text.Json.JsonReaderOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip });
            if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.StartObject)
            {
                return 0;
            }

            while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
            {
                var wanted = reader.ValueTextEquals("max_tokens"u8) || reader.ValueTextEquals("max_completion_tokens"u8) || reader.ValueTextEquals("max_output_tokens"u8);
                if (!reader.Read())
                {
                    return 0;
                }

                if (wanted && reader.TokenType == System.Text.Json.JsonTokenType.Number && reader.TryGetInt64(out var value) && value > 0)
                {
                    return value;
                }

                reader.Skip();
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Malformed or cut body: no requested maximum known.
        }

        return 0;
    }

    /// <summary>A SHA-256 prefix (16 hex digits) of the call's API key header; the key itself goes nowhere.</summary>
    internal static string? HashApiKey(HttpRequestMessage? request)
    {
        if (request is null)
        {
            return null;
        }

        string? value = request.Headers.Authorization?.Parameter ?? request.Headers.Authorization?.Scheme;
        if (value is null)
        {
            foreach (var name in (ReadOnlySpan<string>)["api-key", "x-api-key", "x-goog-api-key"])
            {
                if (request.Headers.NonValidated.TryGetValues(name, out var values) && values.Count > 0)
                {
                    value = values.ToString();
                    break;
                }
            }
        }

        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[32];
        _ = SHA256.HashData(Encoding.UTF8.GetBytes(value), hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    private static string Display(Limit limit, string subject) => limit.Budget.Subject == TokenUsageBudgetSubject.ApiKey ? "key:" + subject : subject;

    private long EstimateCostMicros(BudgetCall call, long input, long output)
    {
        try
        {
            var cost = _recorder.PriceCatalog.Resolve(call.Model, call.Provider)?.Entry.Price.ComputeCost(new TokenUsage { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output });
            return cost is { } c ? (long)Math.Ceiling(c * Micros) : 0; // no price: nothing to reserve; the record's cost (if any) reconciles
        }
        catch (Exception ex)
        {
            _recorder.ReportInternalError("Budget.EstimateCost", ex);
            return 0;
        }
    }

    private void GiveBack(ITokenUsageBudgetStore store, List<BudgetReservation.Entry>? taken)
    {
        if (taken is null)
        {
            return;
        }

        foreach (var entry in taken)
        {
            Apply(store, entry.Key, -entry.Amount, entry.Window);
        }
    }

    /// <summary>Adds to a counter without waiting for a slow store; failures are counted, never thrown.</summary>
    internal void Apply(ITokenUsageBudgetStore store, string key, long delta, TimeSpan window)
    {
        if (delta == 0)
        {
            return;
        }

        try
        {
            var pending = store.AddAsync(key, delta, window, CancellationToken.None);
            if (!pending.IsCompletedSuccessfully)
            {
                _ = Observe(pending.AsTask());
            }
        }
        catch (Exception ex)
        {
            ReportReconcileFailure(ex);
        }
    }

    private async Task Observe(Task task)
    {
        try
        {
            await task.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            ReportReconcileFailure(ex);
        }
    }

    private Plan GetPlan(IReadOnlyList<TokenUsageBudget> budgets)
    {
        var plan = Volatile.Read(ref _plan);
        if (plan is not null && ReferenceEquals(plan.Source, budgets))
        {
            return plan;
        }

        var limits = new List<Limit>();
        foreach (var budget in budgets)
        {
            Add(limits, budget, "tokens_per_minute", "tpm", budget.TokensPerMinute, TimeSpan.FromMinutes(1));
            Add(limits, budget, "tokens_per_hour", "tph", budget.TokensPerHour, TimeSpan.FromHours(1));
            Add(limits, budget, "tokens_per_day", "tpd", budget.TokensPerDay, TimeSpan.FromDays(1));
            Add(limits, budget, "cost_per_day", "cpd", budget.CostPerDay is { } d ? (long)Math.Floor(d * Micros) : null, TimeSpan.FromDays(1), isCost: true);
            Add(limits, budget, "cost_per_month", "cpm", budget.CostPerMonth is { } m ? (long)Math.Floor(m * Micros) : null, TimeSpan.FromDays(30), isCost: true);
        }

        plan = new Plan(budgets, limits.ToArray());
        Volatile.Write(ref _plan, plan);
        return plan;

        static void Add(List<Limit> limits, TokenUsageBudget budget, string name, string tag, long? amount, TimeSpan window, bool isCost = false)
        {
            if (amount is { } a)
            {
                var prefix = string.Concat(budget.Name, ":", tag, ":", SubjectTag(budget), ":");
                limits.Add(new Limit(budget, name, a, window, isCost, prefix, prefix + "*"));
            }
        }
    }

    private static string SubjectTag(TokenUsageBudget budget) => budget.Subject switch
    {
        TokenUsageBudgetSubject.User => "user",
        TokenUsageBudgetSubject.Consumer => "consumer",
        TokenUsageBudgetSubject.ApiKey => "key",
        TokenUsageBudgetSubject.Tag => "tag." + budget.TagName,
        TokenUsageBudgetSubject.Model => "model",
        _ => "global",
    };

    private Measurement<long>[] CheckMeasurements() =>
    [
        new(Allowed, new KeyValuePair<string, object?>("tokenmetrics.outcome", "allowed")),
        new(Rejected, new KeyValuePair<string, object?>("tokenmetrics.outcome", "rejected")),
        new(FailedOpen, new KeyValuePair<string, object?>("tokenmetrics.outcome", "failed_open")),
        new(FailedClosed, new KeyValuePair<string, object?>("tokenmetrics.outcome", "failed_closed")),
    ];

    private IEnumerable<Measurement<double>> RemainingMeasurements()
    {
        if (Volatile.Read(ref _plan) is not { } plan)
        {
            yield break;
        }

        foreach (var limit in plan.Limits)
        {
            if (limit.LastRemaining is { } remaining)
            {
                yield return new Measurement<double>(
                    limit.IsCost ? remaining / (double)Micros : remaining,
                    new KeyValuePair<string, object?>("tokenmetrics.budget", limit.Budget.Name),
                    new KeyValuePair<string, object?>("tokenmetrics.budget.limit", limit.Name));
            }
        }
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "TokenMetrics budget '{Budget}': the counter store failed or timed out; failing {Mode}.")]
    private static partial void LogStoreFailed(ILogger logger, string budget, string mode, Exception exception);

    [LoggerMessage(EventId = 41, Level = LogLevel.Debug, Message = "TokenMetrics budget '{Budget}' refused a call ({Limit}).")]
    private static partial void LogRejected(ILogger logger, string budget, string limit);

    private sealed record Plan(IReadOnlyList<TokenUsageBudget> Source, Limit[] Limits);

    internal sealed class Limit(TokenUsageBudget budget, string name, long amount, TimeSpan window, bool isCost, string keyPrefix, string globalKey)
    {
        private long _lastRemaining = -1;

        public TokenUsageBudget Budget { get; } = budget;

        public string Name { get; } = name;

        public long Amount { get; } = amount;

        public TimeSpan Window { get; } = window;

        public bool IsCost { get; } = isCost;

        public string KeyPrefix { get; } = keyPrefix;

        public string GlobalKey { get; } = globalKey;

        public long? LastRemaining
        {
            get => Volatile.Read(ref _lastRemaining) is var v && v >= 0 ? v : null;
            set => Volatile.Write(ref _lastRemaining, value ?? -1);
        }
    }
}

/// <summary>Who and what a call is, for finding the budgets that apply.</summary>
internal readonly struct BudgetCall(TokenUsageAttribution? attribution, string? model, string? provider, HttpRequestMessage? request)
{
    public string? Model => model;

    public string? Provider => provider;

    public bool IsAnthropic => provider is not null && provider.Contains("anthropic", StringComparison.OrdinalIgnoreCase);

    public string? SubjectOf(TokenUsageBudget budget) => budget.Subject switch
    {
        TokenUsageBudgetSubject.User => attribution?.UserId,
        TokenUsageBudgetSubject.Consumer => attribution?.Consumer,
        TokenUsageBudgetSubject.Tag => budget.TagName is { } tag && attribution?.Tags is { } tags && tags.TryGetValue(tag, out var value) ? value : null,
        TokenUsageBudgetSubject.Model => model,
        TokenUsageBudgetSubject.ApiKey => BudgetEnforcer.HashApiKey(request),
        _ => "*",
    };
}

/// <summary>What a call reserved; reconciled once with the call's record (its usage and cost) when the record is delivered.</summary>
internal sealed class BudgetReservation(BudgetEnforcer enforcer, ITokenUsageBudgetStore store, BudgetReservation.Entry[] entries)
{
    private int _done;

    /// <summary>Gives the difference between the actual and the reserved amounts to each counter; a side whose actual amount is
    /// unknown (no usage, no price) keeps its reservation.</summary>
    public void Reconcile(TokenUsageRecord record)
    {
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return;
        }

        long? tokens = record.Usage is { IsEmpty: false } usage ? usage.TotalTokenCount ?? usage.GetTotalOrSum() : null;
        long? cost = record.Cost is { } c ? (long)Math.Ceiling(c * 1_000_000m) : null;
        foreach (var entry in entries)
        {
            if ((entry.IsCost ? cost : tokens) is { } actual)
            {
                enforcer.Apply(store, entry.Key, actual - entry.Amount, entry.Window);
            }
        }
    }

    internal readonly record struct Entry(string Key, TimeSpan Window, long Amount, bool IsCost);
}

/// <summary>A refused call: the exception the chat client throws, and what the handler's synthetic 429 says.</summary>
internal sealed class BudgetRejection(TokenUsageBudget budget, string subject, string limitName, BudgetEnforcer.Limit limit, long remaining, TimeSpan resetAfter, bool anthropic)
{
    public TokenUsageBudget Budget => budget;

    public bool IsTokens => !limit.IsCost;

    public long Limit => limit.Amount;

    public long Remaining => remaining;

    public TimeSpan ResetAfter => resetAfter;

    public bool Anthropic => anthropic;

    public TokenBudgetExceededException ToException() => limit.IsCost
        ? new(budget.Name, subject, limitName, limit.Amount / 1_000_000m, remaining / 1_000_000m, resetAfter)
        : new(budget.Name, subject, limitName, limit.Amount, remaining, resetAfter);

    /// <summary>A synthetic <c>429 Too Many Requests</c> in the vendor's shape, so the SDKs raise their own rate-limit error.</summary>
    public HttpResponseMessage ToResponse(HttpRequestMessage request, DateTimeOffset now)
    {
        var message = ToException().Message;
        var seconds = Math.Max(1, (long)Math.Ceiling(resetAfter.TotalSeconds));
        var response = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests) { RequestMessage = request };
        _ = response.Headers.TryAddWithoutValidation("retry-after", seconds.ToString(CultureInfo.InvariantCulture));
        string body;
        if (anthropic)
        {
            if (!limit.IsCost)
            {
                _ = response.Headers.TryAddWithoutValidation("anthropic-ratelimit-tokens-limit", limit.Amount.ToString(CultureInfo.InvariantCulture));
                _ = response.Headers.TryAddWithoutValidation("anthropic-ratelimit-tokens-remaining", remaining.ToString(CultureInfo.InvariantCulture));
                _ = response.Headers.TryAddWithoutValidation("anthropic-ratelimit-tokens-reset", (now + resetAfter).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            }

            body = "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":" + "\"" + System.Text.Json.JsonEncodedText.Encode(message) + "\"" + "}}";
        }
        else
        {
            if (!limit.IsCost)
            {
                _ = response.Headers.TryAddWithoutValidation("x-ratelimit-limit-tokens", limit.Amount.ToString(CultureInfo.InvariantCulture));
                _ = response.Headers.TryAddWithoutValidation("x-ratelimit-remaining-tokens", remaining.ToString(CultureInfo.InvariantCulture));
                _ = response.Headers.TryAddWithoutValidation("x-ratelimit-reset-tokens", OpenAIDuration(resetAfter));
            }

            body = "{\"error\":{\"message\":" + "\"" + System.Text.Json.JsonEncodedText.Encode(message) + "\"" + ",\"type\":\"tokens\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}";
        }

        response.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return response;
    }

    /// <summary>OpenAI's reset format: <c>1h2m3s</c>, <c>6m0s</c>, <c>20ms</c>.</summary>
    internal static string OpenAIDuration(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
        {
            return Math.Max(0, (long)Math.Ceiling(value.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";
        }

        var text = new StringBuilder();
        var hours = (long)value.TotalHours;
        if (hours > 0)
        {
            _ = text.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        if (hours > 0 || value.Minutes > 0)
        {
            _ = text.Append(value.Minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }

        var seconds = value.Seconds + (value.Milliseconds / 1000.0);
        return text.Append(seconds.ToString("0.###", CultureInfo.InvariantCulture)).Append('s').ToString();
    }
}
