using System.Collections.Generic;

namespace TokenMetrics.Storage.Internal;

/// <summary>The rollup rows (<see cref="StoreRollup"/>) of a group of records, summed in memory: a fold then writes each distinct
/// row once instead of grouping the records in SQL (SQLite sorted 15 rows per record for that; the upsert of distinct rows is
/// what is left).</summary>
/// <remarks>The sums are the same as <see cref="StoreRollup.Rows"/> computes in SQL (the contract tests compare the rollup with a
/// record scan). Stores feed it the records they have just written, so a fold does not read them back; records it did not see
/// (another process's, or left by a crash) are read back and added the same way.</remarks>
internal sealed class RollupAccumulator
{
    // Record columns holding each dimension's key, in StoreRollup.Dimensions order; -1 = grand total.
    private static readonly (int Code, int Field, long[] Grains)[] Dimensions = BuildDimensions();

    private readonly Dictionary<RollupKey, RollupSums> _rows = new(RollupKeyComparer.Instance);

    /// <summary>Gets the number of records added.</summary>
    public long Records { get; private set; }

    /// <summary>Gets the distinct rollup rows.</summary>
    public Dictionary<RollupKey, RollupSums> Rows => _rows;

    /// <summary>Adds a record as a store wrote it.</summary>
    /// <param name="record">The record.</param>
    /// <param name="escapeNul">Whether the store escapes NUL in strings (<see cref="StoreValues.Encode"/>): keys are the stored text.</param>
    /// <param name="costUnits">Whether the store keeps costs as integer units (<see cref="StoreValues.ToCostUnits"/>) rather than exact decimals.</param>
    public void Add(TokenUsageRecord record, bool escapeNul, bool costUnits)
    {
        ArgumentNullException.ThrowIfNull(record);
        var usage = record.Usage;
        var values = new RollupRecord
        {
            Ts = StoreValues.ToUtcTicks(record.Timestamp),
            Provider = StoreValues.Encode(record.Provider, escapeNul),
            Model = StoreValues.Encode(StoreValues.EffectiveModel(record), escapeNul),
            User = StoreValues.Encode(record.UserId, escapeNul),
            Consumer = StoreValues.Encode(record.Consumer, escapeNul),
            Session = StoreValues.Encode(record.SessionId, escapeNul),
            Status = StoreValues.StatusName(record.Status),
            Feature = StoreValues.Encode(record.Feature, escapeNul),
            Source = record.Source,
            Input = usage.InputTokenCount,
            Output = usage.OutputTokenCount,
            Total = usage.TotalTokenCount,
            Cached = usage.CachedInputTokenCount,
            CacheWrite = usage.CacheWriteInputTokenCount,
            Reasoning = usage.ReasoningTokenCount,
            DurationTicks = record.Duration.Ticks,
            Currency = record.Cost is null ? null : StoreValues.Encode(record.Currency, escapeNul),
        };
        if (record.Cost is { } cost)
        {
            if (costUnits)
            {
                values.CostUnits = StoreValues.ToCostUnits(cost);
            }
            else
            {
                values.Cost = cost;
            }
        }

        Add(values);
    }

    /// <summary>Adds a record's rollup values (as stored).</summary>
    /// <param name="r">The values.</param>
    public void Add(in RollupRecord r)
    {
        Records++;
        var total = r.Total ?? ((r.Input ?? 0) + (r.Output ?? 0));
        var estimated = r.Source == TokenUsageSource.Estimated;
        var missing = r.Source == TokenUsageSource.Missing;
        var priced = r.Cost is not null || r.CostUnits is not null;
        var ccy = priced ? r.Currency ?? string.Empty : string.Empty;
        var failed = r.Status != "ok";
        for (var d = 0; d < Dimensions.Length; d++)
        {
            var (code, field, grains) = Dimensions[d];
            var dkey = field switch
            {
                0 => r.Provider,
                1 => r.Model,
                2 => r.User,
                3 => r.Consumer,
                4 => r.Session,
                5 => r.Status,
                6 => r.Feature,
                _ => null,
            };
            foreach (var grain in grains)
            {
                var key = new RollupKey(code, grain, r.Ts - (r.Ts % grain), dkey is null, dkey ?? string.Empty, priced, ccy);
                if (!_rows.TryGetValue(key, out var v))
                {
                    _rows[key] = v = new RollupSums();
                }

                v.Calls++;
                v.InputTokens += r.Input ?? 0;
                v.OutputTokens += r.Output ?? 0;
                v.TotalTokens += total;
                v.CachedTokens += r.Cached ?? 0;
                v.CacheWriteTokens += r.CacheWrite ?? 0;
                v.ReasoningTokens += r.Reasoning ?? 0;
                if (estimated)
                {
                    v.EstimatedCalls++;
                    v.EstimatedTokens += total;
                }

                v.MissingCalls += missing ? 1 : 0;
                v.FailedCalls += failed ? 1 : 0;
                v.DurationTicks += r.DurationTicks;
                v.UnpricedCalls += !priced && !missing ? 1 : 0;
                v.LastTs = Math.Max(v.LastTs, r.Ts);
                if (r.CostUnits is { } units)
                {
                    // Split per record as the SQL does (SUM(cost / 1000000), SUM(cost % 1000000)): no sum can overflow.
                    v.CostHi += units / 1_000_000;
                    v.CostLo += units % 1_000_000;
                }
                else if (r.Cost is { } cost)
                {
                    v.Cost += cost;
                }
            }
        }
    }

    /// <summary>Forgets every row.</summary>
    public void Clear()
    {
        _rows.Clear();
        Records = 0;
    }

    private static (int Code, int Field, long[] Grains)[] BuildDimensions()
    {
        var result = new (int, int, long[])[StoreRollup.Dimensions.Length];
        for (var i = 0; i < result.Length; i++)
        {
            var (code, column) = StoreRollup.Dimensions[i];
            var field = column switch
            {
                "u.provider" => 0,
                "u.model" => 1,
                "u.user_id" => 2,
                "u.consumer" => 3,
                "u.session_id" => 4,
                "u.status" => 5,
                "u.feature" => 6,
                null => -1,
                _ => throw new InvalidOperationException("Unknown rollup dimension " + column + "."),
            };
            result[i] = (code, field, StoreRollup.Grains(code));
        }

        return result;
    }

    private sealed class RollupKeyComparer : IEqualityComparer<RollupKey>
    {
        public static readonly RollupKeyComparer Instance = new();

        public bool Equals(RollupKey x, RollupKey y) =>
            x.Dim == y.Dim && x.Grain == y.Grain && x.Bucket == y.Bucket && x.DNull == y.DNull && x.Priced == y.Priced
            && string.Equals(x.DKey, y.DKey, StringComparison.Ordinal) && string.Equals(x.Ccy, y.Ccy, StringComparison.Ordinal);

        public int GetHashCode(RollupKey key) =>
            HashCode.Combine(key.Dim, key.Grain, key.Bucket, key.DKey.GetHashCode(StringComparison.Ordinal), key.Ccy.Length);
    }
}

/// <summary>A record's values as the rollup sums them (strings as stored).</summary>
internal struct RollupRecord
{
    public long Ts;
    public string? Provider;
    public string? Model;
    public string? User;
    public string? Consumer;
    public string? Session;
    public string Status;
    public string? Feature;
    public TokenUsageSource Source;
    public long? Input;
    public long? Output;
    public long? Total;
    public long? Cached;
    public long? CacheWrite;
    public long? Reasoning;
    public long DurationTicks;
    public decimal? Cost;
    public long? CostUnits;
    public string? Currency;
}

/// <summary>The key of one rollup row (see <see cref="StoreRollup"/>).</summary>
internal readonly record struct RollupKey(int Dim, long Grain, long Bucket, bool DNull, string DKey, bool Priced, string Ccy);

/// <summary>The sums of one rollup row, in <see cref="StoreRollup.SumColumns"/> order, then <c>last_ts</c> and the cost.</summary>
internal sealed class RollupSums
{
    public long Calls;
    public long InputTokens;
    public long OutputTokens;
    public long TotalTokens;
    public long CachedTokens;
    public long CacheWriteTokens;
    public long ReasoningTokens;
    public long EstimatedCalls;
    public long EstimatedTokens;
    public long MissingCalls;
    public long FailedCalls;
    public long DurationTicks;
    public long UnpricedCalls;
    public long LastTs = long.MinValue;

    /// <summary>The cost in integer units, as two sums (stores keeping integer units).</summary>
    public long CostHi;

    /// <summary>See <see cref="CostHi"/>.</summary>
    public long CostLo;

    /// <summary>The exact cost (stores keeping decimals).</summary>
    public decimal Cost;
}
