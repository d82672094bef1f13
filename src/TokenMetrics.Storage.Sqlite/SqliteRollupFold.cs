using System.Collections.Generic;
using System.Linq;
using Microsoft.Data.Sqlite;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.Sqlite;

/// <summary>Folds a range of records into SQLite's rollup: the records are read once, their rollup rows summed in memory, and each
/// distinct row upserted by one prepared statement bound by position.</summary>
/// <remarks>The same rows as <see cref="StoreRollup.Upsert"/> (which retention and migration 4 still use; the contract tests compare
/// the rollup with the record scan). Why not that statement: SQLite evaluates its grouping as a sort of 15 rows per record, about
/// 65 µs per record on this machine; in memory it is a dictionary update, and only the distinct rows reach the b-tree.</remarks>
internal sealed class SqliteRollupFold : IDisposable
{
    private const string Select =
        "SELECT ts, provider, model, user_id, consumer, session_id, status, feature, source, input_tokens, output_tokens, total_tokens, "
        + "cached_tokens, cache_write_tokens, reasoning_tokens, duration_ticks, cost, currency FROM tm_usage WHERE seq > @from AND seq <= @to";

    // Record columns holding each dimension's key (index into the SELECT above), in StoreRollup.Dimensions order; -1 = grand total.
    private static readonly (int Code, int Column, long[] Grains)[] Dimensions = StoreRollup.Dimensions
        .Select(d => (d.Code, d.Column switch
        {
            "u.provider" => 1,
            "u.model" => 2,
            "u.user_id" => 3,
            "u.consumer" => 4,
            "u.session_id" => 5,
            "u.status" => 6,
            "u.feature" => 7,
            null => -1,
            _ => throw new InvalidOperationException("Unknown rollup dimension " + d.Column + "."),
        }, StoreRollup.Grains(d.Code)))
        .ToArray();

    private readonly SqliteCommand _select;
    private readonly SQLitePCL.sqlite3_stmt _upsert;
    private readonly SqliteConnection _connection;

    public SqliteRollupFold(SqliteConnection connection)
    {
        _connection = connection;
        _select = connection.CreateCommand();
        _select.CommandText = Select;
        _ = _select.Parameters.Add("@from", SqliteType.Integer);
        _ = _select.Parameters.Add("@to", SqliteType.Integer);
        var dialect = SqliteStoreDialect.Instance;
        var costs = dialect.RollupCostColumns;
        var columns = StoreRollup.ColumnList(dialect);
        var updates = StoreRollup.SumColumns.Concat(costs).Select(c => c + " = r." + c + " + excluded." + c).Append("last_ts = MAX(r.last_ts, excluded.last_ts)");
        var sql = "INSERT INTO " + dialect.RollupTable + " AS r (" + columns + ") VALUES (" + string.Join(", ", Enumerable.Repeat("?", columns.Split(',').Length))
            + ") ON CONFLICT " + dialect.RollupConflictTarget + " DO UPDATE SET " + string.Join(", ", updates);
        var rc = SQLitePCL.raw.sqlite3_prepare_v2(connection.Handle, sql, out _upsert);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
    }

    /// <summary>Adds the records with sequence in (<paramref name="from"/>, <paramref name="to"/>] to the rollup, inside the
    /// caller's transaction.</summary>
    public void Fold(SqliteTransaction transaction, long from, long to)
    {
        var rows = new Dictionary<Key, long[]>();
        var keys = new string?[8];
        _select.Transaction = transaction;
        _select.Parameters[0].Value = from;
        _select.Parameters[1].Value = to;
        using (var reader = _select.ExecuteReader())
        {
            while (reader.Read())
            {
                var ts = reader.GetInt64(0);
                for (var c = 1; c <= 7; c++)
                {
                    keys[c] = reader.IsDBNull(c) ? null : reader.GetString(c);
                }

                var source = reader.GetString(8);
                long? Long(int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);
                var input = Long(9);
                var output = Long(10);
                var total = Long(11) ?? ((input ?? 0) + (output ?? 0));
                var cost = Long(16);
                var estimated = source == "estimated";
                var priced = cost is null ? 0 : 1;
                var ccy = cost is null ? string.Empty : reader.IsDBNull(17) ? string.Empty : reader.GetString(17);

                foreach (var (code, column, grains) in Dimensions)
                {
                    var dkey = column < 0 ? null : keys[column];
                    foreach (var grain in grains)
                    {
                        var key = new Key(code, grain, ts - (ts % grain), dkey is null ? 1 : 0, dkey ?? string.Empty, priced, ccy);
                        if (!rows.TryGetValue(key, out var v))
                        {
                            rows[key] = v = new long[16];
                            v[13] = long.MinValue;
                        }

                        // calls, input, output, total, cached, cache write, reasoning, estimated calls and tokens, missing, failed,
                        // duration, unpriced; last_ts; cost in 10^-6 units and the rest (as StoreRollup's SQL sums them).
                        v[0]++;
                        v[1] += input ?? 0;
                        v[2] += output ?? 0;
                        v[3] += total;
                        v[4] += Long(12) ?? 0;
                        v[5] += Long(13) ?? 0;
                        v[6] += Long(14) ?? 0;
                        v[7] += estimated ? 1 : 0;
                        v[8] += estimated ? total : 0;
                        v[9] += source == "missing" ? 1 : 0;
                        v[10] += keys[6] != "ok" ? 1 : 0;
                        v[11] += reader.GetInt64(15);
                        v[12] += cost is null && source != "missing" ? 1 : 0;
                        v[13] = Math.Max(v[13], ts);
                        v[14] += cost / 1_000_000 ?? 0;
                        v[15] += cost % 1_000_000 ?? 0;
                    }
                }
            }
        }

        foreach (var (key, v) in rows)
        {
            Check(SQLitePCL.raw.sqlite3_bind_int64(_upsert, 1, key.Dim));
            Check(SQLitePCL.raw.sqlite3_bind_int64(_upsert, 2, key.Grain));
            Check(SQLitePCL.raw.sqlite3_bind_int64(_upsert, 3, key.Bucket));
            Check(SQLitePCL.raw.sqlite3_bind_int64(_upsert, 4, key.DNull));
            Check(SQLitePCL.raw.sqlite3_bind_text(_upsert, 5, key.DKey));
            Check(SQLitePCL.raw.sqlite3_bind_int64(_upsert, 6, key.Priced));
            Check(SQLitePCL.raw.sqlite3_bind_text(_upsert, 7, key.Ccy));
            for (var i = 0; i < v.Length; i++)
            {
                Check(SQLitePCL.raw.sqlite3_bind_int64(_upsert, 8 + i, v[i]));
            }

            var rc = SQLitePCL.raw.sqlite3_step(_upsert);
            _ = SQLitePCL.raw.sqlite3_reset(_upsert);
            if (rc != SQLitePCL.raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
            }
        }
    }

    public void Dispose()
    {
        _ = SQLitePCL.raw.sqlite3_finalize(_upsert);
        _select.Dispose();
    }

    private void Check(int rc)
    {
        if (rc != SQLitePCL.raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        }
    }

    private readonly record struct Key(int Dim, long Grain, long Bucket, int DNull, string DKey, int Priced, string Ccy);
}
