using System.Collections.Generic;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace TokenMetrics.Storage.Internal;

/// <summary>What differs between the SQL stores; everything else (filters, grouping, row mapping) is shared.</summary>
internal abstract class StoreDialect
{
    /// <summary>Gets a value indicating whether strings are stored through <see cref="StoreValues.Encode"/> (no U+0000 allowed).</summary>
    public abstract bool EscapesNul { get; }

    /// <summary>Gets the usage table's name, qualified and quoted as needed (built from constants and validated options only).</summary>
    public abstract string UsageTable { get; }

    /// <summary>Gets the select-list fragment summing the cost columns of <see cref="RollupTable"/> (alias <c>u</c>),
    /// <see cref="CostSumColumns"/> columns read by <see cref="ReadCostSum"/>.</summary>
    public virtual string RollupCostSum => throw new NotSupportedException();

    /// <summary>Gets the multi-grain rollup table (<see cref="StoreRollup"/>), or <see langword="null"/> when the store keeps none.</summary>
    public virtual string? RollupTable => null;

    /// <summary>Gets the per-session summary table (<see cref="StoreSessionSummary"/>), or <see langword="null"/> when the store keeps none.</summary>
    public virtual string? SessionTable => null;

    /// <summary>Gets the one-row table holding the rollup's watermark (<c>folded_seq</c>: the records up to that sequence are
    /// folded into the rollup), or <see langword="null"/> when the rollup is kept in the writing transaction.</summary>
    public virtual string? RollupStateTable => null;

    /// <summary>Gets the rollup's cost columns, in the order <see cref="RollupCostSum"/> and <see cref="SumCost"/> read them.</summary>
    public virtual IReadOnlyList<string> RollupCostColumns => throw new NotSupportedException();

    /// <summary>Gets the SQL function returning the larger of two values (<c>MAX</c> in SQLite, <c>GREATEST</c> in PostgreSQL).</summary>
    public virtual string Greatest => "GREATEST";

    /// <summary>Gets the SQL function returning the smaller of two values (<c>MIN</c> in SQLite, <c>LEAST</c> in PostgreSQL).</summary>
    public virtual string Least => "LEAST";

    /// <summary>Returns how a text key appears in a unique index (PostgreSQL hashes it: a btree entry cannot hold a very long
    /// session id; SQLite indexes the text itself).</summary>
    /// <param name="column">The column or expression.</param>
    /// <returns>The indexed expression.</returns>
    public virtual string IndexedKey(string column) => column;

    /// <summary>Returns a column as a condition's operand that no index answers (SQLite: unary <c>+</c>, its documented way to
    /// steer the planner; PostgreSQL plans from statistics and keeps the column).</summary>
    /// <param name="column">The column.</param>
    /// <returns>The operand.</returns>
    public virtual string Unindexed(string column) => column;

    /// <summary>Returns whether a top N of one dimension's keys over [from, to) is ranked first on the sums its order reads, then
    /// summed in full for those keys only (<see cref="RollupKeyHint"/> or <see cref="RollupDayKeyProbe"/> reads them by key).
    /// SQLite: always; its grouping sorts every row and each of 16 sums costs per row, so ranking on 3 sums from a covering index
    /// and probing 10 keys is 2-3x faster. PostgreSQL: when the range holds a week of whole days or more; its grouping hashes, and
    /// 15 sums over a 30-day ranking's 18,000 day rows cost more than ranking on 3 and reading the N keys' day rows by key, but
    /// partial days are hour rows it can only probe by scanning them.</summary>
    /// <param name="from">The start, or null.</param>
    /// <param name="to">The end, or null.</param>
    /// <returns>Whether to rank the keys first.</returns>
    public virtual bool RanksKeysFirst(long? from, long? to) => false;

    /// <summary>Returns a condition that finds the day rows of the given keys through an index by key (PostgreSQL: the partial
    /// index on <c>(dim, khash, bucket)</c> of day rows, schema 10), added to the day part of a query of a few keys; or null when
    /// <see cref="RollupKeyHint"/> does it.</summary>
    /// <param name="keyParameters">The parameters holding the keys (stored text).</param>
    /// <returns>The condition, or null.</returns>
    public virtual string? RollupDayKeyProbe(IReadOnlyList<string> keyParameters) => null;

    /// <summary>Returns an expression giving the 64-bit hash the rollup stores beside each key (column <c>khash</c>), or null when
    /// the store keeps none. With it a top N is ranked by grouping the day rows on that bigint instead of the text key
    /// (<see cref="StoreRollup.AppendKeyHashRanking"/>); keys sharing a hash are detected and ranked by text instead.</summary>
    /// <param name="text">The key's stored text (an expression).</param>
    /// <param name="isNull">1 when the key is null, else 0 (an expression).</param>
    /// <returns>The expression, or null.</returns>
    public virtual string? KeyHash(string text, string isNull) => null;

    /// <summary>Returns what follows the rollup table's name when a query reads a few keys' rows of one part (a dimension and a
    /// grain): SQLite's <c>INDEXED BY</c> the index that finds rows by key (the session rows' partial index, the day rows' key
    /// index); without statistics its planner prefers the primary key's bucket range, every row of the range. PostgreSQL's
    /// planner picks its own from statistics.</summary>
    /// <param name="dimension">The dimension code.</param>
    /// <param name="grain">The grain in ticks.</param>
    /// <returns>The hint, or empty.</returns>
    public virtual string RollupKeyHint(int dimension, long grain) => string.Empty;

    /// <summary>Gets what follows the session summary's name when a query reads its long sessions (SQLite: <c>INDEXED BY</c> their
    /// partial index; its planner otherwise prefers the covering first_ts index, every session before the edge).</summary>
    public virtual string SessionLongHint => string.Empty;

    /// <summary>Gets the expression of one <see cref="SessionTable"/> row's cost sort key: the same value
    /// <see cref="CostSortKey"/> gives for the session's records.</summary>
    public virtual string SessionCostKey => throw new NotSupportedException();

    /// <summary>Gets the conflict target of the rollup's upsert (its unique key, as the store's index declares it).</summary>
    public virtual string RollupConflictTarget => "(dim, grain, bucket, dnull, dkey, priced, ccy)";

    /// <summary>Returns one aggregate expression ordering groups by their summed cost whatever the currency, over records
    /// (<paramref name="rollup"/> false: <c>u.cost</c>) or rollup rows (true); both give the same value for the same records.</summary>
    /// <param name="rollup">Whether alias <c>u</c> is the rollup.</param>
    /// <returns>The expression.</returns>
    public abstract string CostSortKey(bool rollup);

    /// <summary>Returns the select-list fragment giving the rollup's cost columns (<see cref="RollupCostColumns"/>) from records of alias <c>u</c>.</summary>
    /// <param name="sign">1 to add, -1 to subtract.</param>
    /// <returns>The fragment.</returns>
    public string RollupCostValues(int sign) => string.Join(", ", RollupCostExpressions(sign));

    /// <summary>Returns the expressions giving the rollup's cost columns (<see cref="RollupCostColumns"/>, in order) from records of alias <c>u</c>.</summary>
    /// <param name="sign">1 to add, -1 to subtract.</param>
    /// <returns>One aggregate expression per cost column.</returns>
    public virtual IReadOnlyList<string> RollupCostExpressions(int sign) => throw new NotSupportedException();

    /// <summary>Gets how many select-list columns <see cref="SumCost"/> produces.</summary>
    public abstract int CostSumColumns { get; }

    /// <summary>Reads a non-null <c>cost</c> column.</summary>
    /// <param name="reader">The reader.</param>
    /// <param name="ordinal">The column.</param>
    /// <returns>The cost.</returns>
    public abstract decimal ReadCost(DbDataReader reader, int ordinal);

    /// <summary>Returns the select-list fragment (<see cref="CostSumColumns"/> columns) that sums <c>u.cost</c> exactly, without overflow.</summary>
    /// <returns>The fragment.</returns>
    public abstract string SumCost();

    /// <summary>Reads the columns of <see cref="SumCost"/> or <see cref="RollupCostSum"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <param name="ordinal">The first column.</param>
    /// <returns>The sum.</returns>
    public abstract decimal ReadCostSum(DbDataReader reader, int ordinal);

    /// <summary>Returns a condition that a column equals one of the parameters.</summary>
    /// <param name="column">The column (a constant).</param>
    /// <param name="parameters">The parameters' names (at least one).</param>
    /// <returns>The condition.</returns>
    public virtual string InList(string column, IReadOnlyList<string> parameters) => column + " IN (" + string.Join(", ", parameters) + ")";

    /// <summary>Returns an expression reading a JSON column as text.</summary>
    /// <param name="column">The column.</param>
    /// <returns>The expression.</returns>
    public abstract string JsonAsText(string column);

    /// <summary>Reads a record id.</summary>
    /// <param name="reader">The reader.</param>
    /// <param name="ordinal">The column.</param>
    /// <returns>The id.</returns>
    public abstract Guid ReadId(DbDataReader reader, int ordinal);

    /// <summary>Returns a condition on alias <c>u</c> that is true when the record has the tag.</summary>
    /// <param name="keyParameter">The key parameter's name.</param>
    /// <param name="valueParameter">The value parameter's name.</param>
    /// <returns>The condition.</returns>
    public abstract string TagEquals(string keyParameter, string valueParameter);

    /// <summary>Returns an expression on alias <c>u</c> giving the record's value of a tag, or NULL.</summary>
    /// <param name="keyParameter">The key parameter's name.</param>
    /// <returns>The expression.</returns>
    public abstract string TagValue(string keyParameter);
}

/// <summary>SQL text with its parameters; parameter names are generated (<c>@p0</c>, <c>@p1</c>...), values never inlined.</summary>
internal sealed class SqlText
{
    private readonly List<KeyValuePair<string, object>> _parameters = [];

    /// <summary>Gets the SQL being built.</summary>
    public StringBuilder Sql { get; } = new();

    /// <summary>Gets the parameters.</summary>
    public IReadOnlyList<KeyValuePair<string, object>> Parameters => _parameters;

    /// <summary>Adds a parameter.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The parameter's name, to use in <see cref="Sql"/>.</returns>
    public string Add(object value)
    {
        var name = "@p" + _parameters.Count.ToString(CultureInfo.InvariantCulture);
        _parameters.Add(new(name, value));
        return name;
    }

    /// <summary>Appends SQL.</summary>
    /// <param name="sql">The SQL (constants and generated parameter names only).</param>
    /// <returns>This instance.</returns>
    public SqlText Append(string sql)
    {
        Sql.Append(sql);
        return this;
    }

    /// <summary>Creates a command for this text.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="transaction">The transaction, if any.</param>
    /// <returns>The command.</returns>
    [SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The text is built from constants, validated identifiers and generated parameter names; every value is a parameter.")]
    public DbCommand CreateCommand(DbConnection connection, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = Sql.ToString();
        command.Transaction = transaction;
        foreach (var (name, value) in _parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    /// <inheritdoc/>
    public override string ToString() => Sql.ToString();
}
