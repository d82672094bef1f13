using System.Text;
using Microsoft.Data.Sqlite;
using TokenMetrics.Storage.Internal;

namespace TokenMetrics.Storage.Sqlite;

/// <summary>Binds a record's columns to a prepared multi-row insert by position, typed: SqliteCommand binds parameters by name (a
/// linear search each, quadratic in a multi-row statement) and boxes every value.</summary>
internal struct SqliteRowBinder : IUsageRowWriter
{
    private readonly SQLitePCL.sqlite3_stmt _statement;
    private readonly nint _handle; // 0: bind through SQLitePCL
    private readonly SqliteTextBuffer _text;
    private int _index;

    /// <summary>Initializes a new instance of the <see cref="SqliteRowBinder"/> struct.</summary>
    /// <param name="statement">The statement.</param>
    /// <param name="text">The buffer strings are encoded into (SQLite copies each value when it is bound).</param>
    /// <param name="firstIndex">The 1-based position of the first value.</param>
    public SqliteRowBinder(SQLitePCL.sqlite3_stmt statement, SqliteTextBuffer text, int firstIndex)
    {
        _statement = statement;
        _handle = SqliteNativeBind.Available ? statement.DangerousGetHandle() : 0;
        _text = text;
        _index = firstIndex;
    }

    public void Null() => Check(_handle != 0 ? SqliteNativeBind.Null(_handle, _index++) : SQLitePCL.raw.sqlite3_bind_null(_statement, _index++));

    public void Id(Guid id)
    {
        // Big-endian: a version 7 id sorts in time order, so the unique index grows at its end.
        Span<byte> bytes = stackalloc byte[16];
        _ = id.TryWriteBytes(bytes, bigEndian: true, out _);
        Check(_handle != 0 ? SqliteNativeBind.Blob(_handle, _index++, bytes) : SQLitePCL.raw.sqlite3_bind_blob(_statement, _index++, bytes));
    }

    public void Text(string value) => Utf8(_text.Encode(value));

    public void Int64(long value) => Check(_handle != 0 ? SqliteNativeBind.Int64(_handle, _index++, value) : SQLitePCL.raw.sqlite3_bind_int64(_statement, _index++, value));

    public void Int32(int value) => Int64(value);

    public void Bool(bool value) => Int64(value ? 1 : 0);

    public void Json(ReadOnlySpan<byte> utf8) => Utf8(utf8);

    public void Cost(decimal cost) => Int64(StoreValues.ToCostUnits(cost));

    private void Utf8(ReadOnlySpan<byte> text) => Check(_handle != 0 ? SqliteNativeBind.Text(_handle, _index++, text) : SQLitePCL.raw.sqlite3_bind_text(_statement, _index++, text));

    private static void Check(int rc)
    {
        if (rc != SQLitePCL.raw.SQLITE_OK)
        {
            throw new SqliteException("Binding a value failed.", rc);
        }
    }
}

/// <summary>The UTF-8 of one text value at a time, in a buffer reused for every value: no array per string.</summary>
internal sealed class SqliteTextBuffer
{
    private byte[] _utf8 = new byte[256];

    public ReadOnlySpan<byte> Encode(string text)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_utf8.Length < max)
        {
            _utf8 = new byte[Math.Max(max, _utf8.Length * 2)];
        }

        return _utf8.AsSpan(0, Encoding.UTF8.GetBytes(text, _utf8));
    }
}
