using Microsoft.Data.Sqlite;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.Sqlite;

/// <summary>Folds records into SQLite's rollup and session summary: their rollup rows summed in memory (<see cref="RollupAccumulator"/>: the records the
/// store just wrote, or a range read back), then each distinct row upserted by one prepared statement bound by position.</summary>
/// <remarks>The same rows as <see cref="StoreRollup.Upsert"/> (which retention and migration 4 still use; the contract tests compare
/// the rollup with the record scan). Why not that statement: SQLite evaluates its grouping as a sort of 15 rows per record, about
/// 65 µs per record on this machine; in memory it is a dictionary update, and only the distinct rows reach the b-tree.</remarks>
internal sealed class SqliteRollupFold : IDisposable
{
    private const string Select =
        "SELECT ts, provider, model, user_id, consumer, session_id, status, feature, source, input_tokens, output_tokens, total_tokens, "
        + "cached_tokens, cache_write_tokens, reasoning_tokens, duration_ticks, cost, currency FROM tm_usage WHERE seq > @from AND seq <= @to";

    private readonly SqliteCommand _select;
    private readonly SQLitePCL.sqlite3_stmt _upsert;
    private readonly SQLitePCL.sqlite3_stmt _upsertSession;
    private readonly SqliteConnection _connection;
    private readonly SqliteTextBuffer _text = new();

    public SqliteRollupFold(SqliteConnection connection)
    {
        _connection = connection;
        _select = connection.CreateCommand();
        _select.CommandText = Select;
        _ = _select.Parameters.Add("@from", SqliteType.Integer);
        _ = _select.Parameters.Add("@to", SqliteType.Integer);
        var dialect = SqliteStoreDialect.Instance;
        var rc = SQLitePCL.raw.sqlite3_prepare_v2(connection.Handle, StoreRollup.UpsertValues(dialect), out _upsert);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        rc = SQLitePCL.raw.sqlite3_prepare_v2(connection.Handle, StoreSessionSummary.UpsertValues(dialect), out _upsertSession);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
    }

    /// <summary>Adds the records with sequence in (<paramref name="from"/>, <paramref name="to"/>] to the rollup, inside the
    /// caller's transaction, reading them back.</summary>
    public void Fold(SqliteTransaction transaction, long from, long to)
    {
        var sums = new RollupAccumulator(sessions: true);
        _select.Transaction = transaction;
        _select.Parameters[0].Value = from;
        _select.Parameters[1].Value = to;
        using (var reader = _select.ExecuteReader())
        {
            while (reader.Read())
            {
                sums.Add(RollupRecord.Read(reader, costUnits: true));
            }
        }

        Apply(sums);
    }

    /// <summary>Adds summed rollup rows to the rollup, inside the caller's transaction.</summary>
    public void Apply(RollupAccumulator sums)
    {
        foreach (var (key, sum) in sums.Rows)
        {
            var binder = new SqliteRowBinder(_upsert, _text, 1);
            binder.Int64(key.Dim);
            binder.Int64(key.Grain);
            binder.Int64(key.Bucket);
            binder.Int64(key.DNull);
            binder.Text(key.DKey);
            binder.Int64(key.Priced);
            binder.Text(key.Ccy);
            foreach (var value in sum.Values) // the sums, last_ts and the two cost parts: the upsert's order
            {
                binder.Int64(value);
            }

            Step(_upsert);
        }

        foreach (var (key, sum) in sums.Sessions)
        {
            var binder = new SqliteRowBinder(_upsertSession, _text, 1);
            binder.Text(key);
            binder.Int64(sum.FirstTs);
            binder.Int64(sum.LastTs);
            binder.Int64(sum.Calls);
            binder.Int64(sum.TotalTokens);
            binder.Int64(sum.CostHi);
            binder.Int64(sum.CostLo);
            Step(_upsertSession);
        }
    }

    private void Step(SQLitePCL.sqlite3_stmt statement)
    {
        var rc = SQLitePCL.raw.sqlite3_step(statement);
        _ = SQLitePCL.raw.sqlite3_reset(statement);
        if (rc != SQLitePCL.raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        }
    }

    public void Dispose()
    {
        _ = SQLitePCL.raw.sqlite3_finalize(_upsert);
        _ = SQLitePCL.raw.sqlite3_finalize(_upsertSession);
        _select.Dispose();
    }
}
