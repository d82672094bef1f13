using System.Collections.Generic;
using System.Linq;

namespace TokenMetrics.Storage.Internal;

/// <summary>The rollup (and, for a store that keeps one, the session summary) of a group of records, summed in memory: a fold
/// reads its records once, adds each here, and writes only the distinct rows. The one home of the in-memory fold for every store.</summary>
/// <remarks>The same rows and sums as <see cref="StoreRollup.Upsert"/> and <see cref="StoreSessionSummary.Upsert"/> produce in SQL
/// (which retention and the migrations still use; the contract tests compare the rollup with a record scan). Why in memory: the SQL
/// fold groups 15 rollup rows per record in the server (a sort or hash of 150,000 rows per 10,000 records), about 45 to 65 µs per
/// record on SQLite and PostgreSQL alike; here it is a dictionary update, and only the distinct rows reach the tables.</remarks>
internal sealed class RollupAccumulator
{
    /// <summary>The number of <see cref="long"/> sums per row: <see cref="StoreRollup.SumColumns"/>, then <c>last_ts</c>, then
    /// the two parts of an integer cost (<see cref="RollupRecord.CostUnits"/>: units / 10^6 and units % 10^6).</summary>
    public const int Width = 16;

    /// <summary>The index of <c>last_ts</c> in <see cref="RollupSums.Values"/>.</summary>
    public const int LastTs = 13;

    // Each dimension's key column (RollupRecord.Key index; -1 = grand total) and grains, in StoreRollup.Dimensions order.
    private static readonly (int Code, int Key, long[] Grains)[] Dimensions = StoreRollup.Dimensions
        .Select(d => (d.Code, d.Column switch
        {
            null => -1,
            "u.provider" => 0,
            "u.model" => 1,
            "u.user_id" => 2,
            "u.consumer" => 3,
            "u.session_id" => 4,
            "u.status" => 5,
            "u.feature" => 6,
            _ => throw new InvalidOperationException("Unknown rollup dimension " + d.Column + "."),
        }, StoreRollup.Grains(d.Code)))
        .ToArray();

    private readonly Dictionary<RollupKey, RollupSums> _rows = [];
    private readonly Dictionary<string, SessionSums>? _sessions;

    /// <summary>Initializes a new instance of the <see cref="RollupAccumulator"/> class.</summary>
    /// <param name="sessions">Whether to sum the session summary too.</param>
    public RollupAccumulator(bool sessions) => _sessions = sessions ? new(StringComparer.Ordinal) : null;

    /// <summary>Gets the summed rollup rows.</summary>
    public IReadOnlyDictionary<RollupKey, RollupSums> Rows => _rows;

    /// <summary>Gets the summed session rows (empty unless sessions are summed).</summary>
    public IReadOnlyDictionary<string, SessionSums> Sessions => (IReadOnlyDictionary<string, SessionSums>?)_sessions ?? new Dictionary<string, SessionSums>();

    /// <summary>Gets the records added.</summary>
    public long Records { get; private set; }

    /// <summary>Gets a value indicating whether a decimal cost sum lost digits (more than 28 significant digits): the caller then
    /// folds these records another way (its SQL fold, which sums <c>numeric</c> exactly).</summary>
    public bool Inexact { get; private set; }

    /// <summary>Adds a record as a store writes it (a store that sums the records it writes instead of reading them back).</summary>
    /// <param name="record">The record.</param>
    /// <param name="escapeNul">Whether the store escapes NUL in strings (<see cref="StoreValues.Encode"/>): keys are the stored text.</param>
    /// <param name="costUnits">Whether the store keeps a cost as integer units (<see cref="StoreValues.ToCostUnits"/>) rather than a decimal.</param>
    public void Add(TokenUsageRecord record, bool escapeNul, bool costUnits)
    {
        ArgumentNullException.ThrowIfNull(record);
        var usage = record.Usage;
        var cost = record.Cost;
        Add(new RollupRecord
        {
            Ts = StoreValues.ToUtcTicks(record.Timestamp),
            Provider = StoreValues.Encode(record.Provider, escapeNul),
            Model = StoreValues.Encode(StoreValues.EffectiveModel(record), escapeNul),
            UserId = StoreValues.Encode(record.UserId, escapeNul),
            Consumer = StoreValues.Encode(record.Consumer, escapeNul),
            SessionId = StoreValues.Encode(record.SessionId, escapeNul),
            Status = StoreValues.StatusName(record.Status),
            Feature = StoreValues.Encode(record.Feature, escapeNul),
            Source = StoreValues.SourceName(record.Source),
            InputTokens = usage.InputTokenCount,
            OutputTokens = usage.OutputTokenCount,
            TotalTokens = usage.TotalTokenCount,
            CachedTokens = usage.CachedInputTokenCount,
            CacheWriteTokens = usage.CacheWriteInputTokenCount,
            ReasoningTokens = usage.ReasoningTokenCount,
            DurationTicks = record.Duration.Ticks,
            CostUnits = costUnits && cost is { } units ? StoreValues.ToCostUnits(units) : null,
            Cost = costUnits ? null : cost,
            Currency = StoreValues.Encode(record.Currency, escapeNul),
        });
    }

    /// <summary>Adds one record.</summary>
    /// <param name="record">The record's rollup columns, as stored.</param>
    public void Add(in RollupRecord record)
    {
        Records++;
        var total = record.TotalTokens ?? ((record.InputTokens ?? 0) + (record.OutputTokens ?? 0));
        var estimated = record.Source == "estimated";
        var missing = record.Source == "missing";
        var priced = record.CostUnits is not null || record.Cost is not null;
        var ccy = priced ? record.Currency ?? string.Empty : string.Empty;
        foreach (var (code, keyIndex, grains) in Dimensions)
        {
            var dkey = keyIndex < 0 ? null : record.Key(keyIndex);
            foreach (var grain in grains)
            {
                var key = new RollupKey(code, grain, record.Ts - (record.Ts % grain), dkey is null ? 1 : 0, dkey ?? string.Empty, priced ? 1 : 0, ccy);
                if (!_rows.TryGetValue(key, out var sums))
                {
                    _rows[key] = sums = new RollupSums();
                }

                var v = sums.Values;
                v[0]++;
                v[1] += record.InputTokens ?? 0;
                v[2] += record.OutputTokens ?? 0;
                v[3] += total;
                v[4] += record.CachedTokens ?? 0;
                v[5] += record.CacheWriteTokens ?? 0;
                v[6] += record.ReasoningTokens ?? 0;
                v[7] += estimated ? 1 : 0;
                v[8] += estimated ? total : 0;
                v[9] += missing ? 1 : 0;
                v[10] += record.Status != "ok" ? 1 : 0;
                v[11] += record.DurationTicks;
                v[12] += !priced && !missing ? 1 : 0;
                v[LastTs] = Math.Max(v[LastTs], record.Ts);
                v[14] += record.CostUnits / 1_000_000 ?? 0;
                v[15] += record.CostUnits % 1_000_000 ?? 0;
                sums.Cost = AddCost(sums.Cost, record.Cost);
            }
        }

        if (_sessions is not null && record.SessionId is { } session)
        {
            if (!_sessions.TryGetValue(session, out var s))
            {
                _sessions[session] = s = new SessionSums { FirstTs = long.MaxValue, LastTs = long.MinValue };
            }

            s.FirstTs = Math.Min(s.FirstTs, record.Ts);
            s.LastTs = Math.Max(s.LastTs, record.Ts);
            s.Calls++;
            s.TotalTokens += total;
            s.CostHi += record.CostUnits / 1_000_000 ?? 0;
            s.CostLo += record.CostUnits % 1_000_000 ?? 0;
            s.Cost = AddCost(s.Cost, record.Cost);
        }
    }

    /// <summary>Forgets every row, to sum the next group.</summary>
    public void Clear()
    {
        _rows.Clear();
        _sessions?.Clear();
        Records = 0;
        Inexact = false;
    }

    private decimal AddCost(decimal sum, decimal? cost)
    {
        if (cost is not { } c)
        {
            return sum;
        }

        // decimal addition keeps the larger scale unless the result needs more than 96 bits, and then rounds: a smaller scale
        // means digits were lost.
        var result = sum + c;
        if (result.Scale < Math.Max(sum.Scale, c.Scale))
        {
            Inexact = true;
        }

        return result;
    }
}

/// <summary>A rollup row's key: the columns of the rollup's unique key.</summary>
/// <param name="Dim">The dimension code (0 = grand total).</param>
/// <param name="Grain">The grain in ticks.</param>
/// <param name="Bucket">The bucket's start in UTC ticks.</param>
/// <param name="DNull">1 when the record has no value for the dimension.</param>
/// <param name="DKey">The dimension's stored value, or empty.</param>
/// <param name="Priced">1 for priced records.</param>
/// <param name="Ccy">The currency of priced records, or empty.</param>
internal readonly record struct RollupKey(int Dim, long Grain, long Bucket, int DNull, string DKey, int Priced, string Ccy);

/// <summary>A rollup row's sums (see <see cref="RollupAccumulator.Width"/>) and its decimal cost.</summary>
internal sealed class RollupSums
{
    /// <summary>Initializes a new instance of the <see cref="RollupSums"/> class.</summary>
    public RollupSums() => Values[RollupAccumulator.LastTs] = long.MinValue;

    /// <summary>Gets the integer sums.</summary>
    public long[] Values { get; } = new long[RollupAccumulator.Width];

    /// <summary>Gets or sets the sum of the decimal costs (<see cref="RollupRecord.Cost"/>).</summary>
    public decimal Cost { get; set; }
}

/// <summary>A session summary row's sums.</summary>
internal sealed class SessionSums
{
    /// <summary>Gets or sets the oldest record's timestamp.</summary>
    public long FirstTs { get; set; }

    /// <summary>Gets or sets the newest record's timestamp.</summary>
    public long LastTs { get; set; }

    /// <summary>Gets or sets the calls.</summary>
    public long Calls { get; set; }

    /// <summary>Gets or sets the total tokens.</summary>
    public long TotalTokens { get; set; }

    /// <summary>Gets or sets the cost (a store keeping decimal costs).</summary>
    public decimal Cost { get; set; }

    /// <summary>Gets or sets the sum of the integer costs' millions (a store keeping costs as units, as the rollup's <c>cost_hi</c>).</summary>
    public long CostHi { get; set; }

    /// <summary>Gets or sets the sum of the integer costs' remainders below a million (as the rollup's <c>cost_lo</c>).</summary>
    public long CostLo { get; set; }
}

/// <summary>The columns of one record the rollup reads (<see cref="StoreRollup.SourceColumns"/>), as stored.</summary>
internal struct RollupRecord
{
    /// <summary>The timestamp in UTC ticks.</summary>
    public long Ts;

    /// <summary>The dimension keys, as stored (null when absent).</summary>
    public string? Provider, Model, UserId, Consumer, SessionId, Status, Feature;

    /// <summary>The source name.</summary>
    public string Source;

    /// <summary>The token counts.</summary>
    public long? InputTokens, OutputTokens, TotalTokens, CachedTokens, CacheWriteTokens, ReasoningTokens;

    /// <summary>The duration in ticks.</summary>
    public long DurationTicks;

    /// <summary>The cost as an integer of 10^-12 units (SQLite), or null.</summary>
    public long? CostUnits;

    /// <summary>The cost as a decimal (PostgreSQL), or null.</summary>
    public decimal? Cost;

    /// <summary>The currency, or null.</summary>
    public string? Currency;

    /// <summary>Reads a record's rollup columns from a row of <see cref="StoreRollup.SourceColumns"/>.</summary>
    /// <param name="reader">The reader, on the row.</param>
    /// <param name="costUnits">Whether the cost column holds integer units (SQLite) rather than a decimal (PostgreSQL).</param>
    /// <returns>The values.</returns>
    public static RollupRecord Read(System.Data.Common.DbDataReader reader, bool costUnits)
    {
        string? S(int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
        long? L(int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);
        return new RollupRecord
        {
            Ts = reader.GetInt64(0),
            Provider = S(1),
            Model = S(2),
            UserId = S(3),
            Consumer = S(4),
            SessionId = S(5),
            Status = S(6),
            Feature = S(7),
            Source = reader.GetString(8),
            InputTokens = L(9),
            OutputTokens = L(10),
            TotalTokens = L(11),
            CachedTokens = L(12),
            CacheWriteTokens = L(13),
            ReasoningTokens = L(14),
            DurationTicks = reader.GetInt64(15),
            CostUnits = costUnits ? L(16) : null,
            Cost = !costUnits && !reader.IsDBNull(16) ? reader.GetDecimal(16) : null,
            Currency = S(17),
        };
    }

    /// <summary>Returns a dimension key by index (provider, model, user, consumer, session, status, feature).</summary>
    /// <param name="index">The index.</param>
    /// <returns>The key.</returns>
    public readonly string? Key(int index) => index switch
    {
        0 => Provider,
        1 => Model,
        2 => UserId,
        3 => Consumer,
        4 => SessionId,
        5 => Status,
        _ => Feature,
    };
}
