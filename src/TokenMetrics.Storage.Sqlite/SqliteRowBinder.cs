using System.Collections.Generic;
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
    private readonly SqliteTextBuffer? _text;
    private readonly SqliteStatementBinds? _binds;
    private int _index;

    /// <summary>Initializes a new instance of the <see cref="SqliteRowBinder"/> struct that binds every value (SQLite copies it).</summary>
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

    /// <summary>Initializes a new instance of the <see cref="SqliteRowBinder"/> struct for a statement with its own
    /// <see cref="SqliteStatementBinds"/>: a NULL already bound is not bound again, and text and blobs are bound from the
    /// statement's pinned memory without a copy (the caller resets it once the statement has run).</summary>
    /// <param name="statement">The statement.</param>
    /// <param name="binds">The statement's bind state.</param>
    /// <param name="firstIndex">The 1-based position of the first value.</param>
    public SqliteRowBinder(SQLitePCL.sqlite3_stmt statement, SqliteStatementBinds binds, int firstIndex)
    {
        _statement = statement;
        _handle = SqliteNativeBind.Available ? statement.DangerousGetHandle() : 0;
        _binds = binds;
        _index = firstIndex;
    }

    public void Null()
    {
        var index = _index++;
        if (_binds is { } binds)
        {
            if (!binds.HasValue(index))
            {
                return; // still NULL: sqlite3_reset keeps the bindings
            }

            Check(_handle != 0 ? SqliteNativeBind.Null(_handle, index) : SQLitePCL.raw.sqlite3_bind_null(_statement, index));
            binds.SetNull(index);
            return;
        }

        Check(_handle != 0 ? SqliteNativeBind.Null(_handle, index) : SQLitePCL.raw.sqlite3_bind_null(_statement, index));
    }

    public void Id(Guid id)
    {
        // Big-endian: a version 7 id sorts in time order, so the unique index grows at its end.
        if (_binds is { } binds)
        {
            var target = binds.Reserve(16);
            _ = id.TryWriteBytes(target, bigEndian: true, out _);
            binds.Advance(16);
            Pinned(target[..16], blob: true);
            return;
        }

        Span<byte> bytes = stackalloc byte[16];
        _ = id.TryWriteBytes(bytes, bigEndian: true, out _);
        var index = Next();
        Check(_handle != 0 ? SqliteNativeBind.Blob(_handle, index, bytes) : SQLitePCL.raw.sqlite3_bind_blob(_statement, index, bytes));
    }

    public void Text(string value)
    {
        if (_binds is { } binds)
        {
            var target = binds.Reserve(Encoding.UTF8.GetMaxByteCount(value.Length));
            var length = Encoding.UTF8.GetBytes(value, target);
            binds.Advance(length);
            Pinned(target[..length], blob: false);
            return;
        }

        Utf8(_text!.Encode(value));
    }

    public void Int64(long value)
    {
        var index = Next();
        Check(_handle != 0 ? SqliteNativeBind.Int64(_handle, index, value) : SQLitePCL.raw.sqlite3_bind_int64(_statement, index, value));
    }

    public void Int32(int value) => Int64(value);

    public void Bool(bool value) => Int64(value ? 1 : 0);

    public void Json(ReadOnlySpan<byte> utf8)
    {
        if (_binds is { } binds)
        {
            var target = binds.Reserve(utf8.Length);
            utf8.CopyTo(target);
            binds.Advance(utf8.Length);
            Pinned(target[..utf8.Length], blob: false);
            return;
        }

        Utf8(utf8);
    }

    public void Cost(decimal cost) => Int64(StoreValues.ToCostUnits(cost));

    /// <summary>The next position, marked as holding a value before it is bound (a failed bind leaves it to be bound again).</summary>
    private int Next()
    {
        var index = _index++;
        _binds?.SetValue(index);
        return index;
    }

    /// <summary>Binds a value in the statement's pinned memory: in place (no copy) through the direct binds.</summary>
    private void Pinned(ReadOnlySpan<byte> value, bool blob)
    {
        var index = Next();
        Check((_handle, blob) switch
        {
            (0, true) => SQLitePCL.raw.sqlite3_bind_blob(_statement, index, value),
            (0, false) => SQLitePCL.raw.sqlite3_bind_text(_statement, index, value),
            (_, true) => SqliteNativeBind.BlobStatic(_handle, index, value),
            (_, false) => SqliteNativeBind.TextStatic(_handle, index, value),
        });
    }

    private void Utf8(ReadOnlySpan<byte> text)
    {
        var index = Next();
        Check(_handle != 0 ? SqliteNativeBind.Text(_handle, index, text) : SQLitePCL.raw.sqlite3_bind_text(_statement, index, text));
    }

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

/// <summary>What one prepared insert has bound: which positions hold a value, and pinned memory its text and blobs are bound
/// from without a copy (<c>SQLITE_STATIC</c>).</summary>
/// <remarks>Why: a Higress row binds about 17 text values and 12 NULLs. SQLite copies transient text into memory it allocates
/// (a malloc, a free and, with memory statistics on, a global mutex each) and takes the connection mutex for every bind, NULL
/// or not. <c>sqlite3_reset</c> keeps the bindings, so a position that is NULL stays NULL; and text bound static is read in
/// place by the step. The memory holds every value of one statement run (up to 128 rows) and is reused after it: the owner
/// calls <see cref="Reset"/> only after <c>sqlite3_step</c> and <c>sqlite3_reset</c>, and every position is bound again (or is
/// NULL) before the next step, so SQLite never reads a value that was overwritten. The arrays are pinned (never moved by the
/// GC) and outlive every step that reads them.</remarks>
internal sealed class SqliteStatementBinds
{
    // Blocks of pinned memory; one larger than this (a captured conversation) is dropped after the run that needed it.
    private const int BlockBytes = 64 * 1024;
    private readonly bool[] _hasValue;
    private readonly List<byte[]> _blocks = [];
    private int _block = -1;
    private int _used;

    /// <summary>Initializes a new instance of the <see cref="SqliteStatementBinds"/> class; every position starts NULL, as in a
    /// freshly prepared statement.</summary>
    /// <param name="parameters">The statement's number of parameters.</param>
    public SqliteStatementBinds(int parameters) => _hasValue = new bool[parameters + 1];

    public bool HasValue(int index) => _hasValue[index];

    public void SetValue(int index) => _hasValue[index] = true;

    public void SetNull(int index) => _hasValue[index] = false;

    /// <summary>At least <paramref name="bytes"/> bytes of pinned memory no value of this run uses; <see cref="Advance"/> claims
    /// what was written.</summary>
    public Span<byte> Reserve(int bytes)
    {
        if (_block < 0 || _blocks[_block].Length - _used < bytes)
        {
            _block++;
            _used = 0;
            if (_block == _blocks.Count)
            {
                _blocks.Add(GC.AllocateUninitializedArray<byte>(Math.Max(BlockBytes, bytes), pinned: true));
            }
            else if (_blocks[_block].Length < bytes)
            {
                // Not used by this run (runs fill blocks in order): replaced by one large enough.
                _blocks[_block] = GC.AllocateUninitializedArray<byte>(bytes, pinned: true);
            }
        }

        return _blocks[_block].AsSpan(_used);
    }

    public void Advance(int bytes) => _used += bytes;

    /// <summary>The statement has run: its memory may be reused (bound values are read by the step only).</summary>
    public void Reset()
    {
        for (var i = _blocks.Count - 1; i >= 0; i--)
        {
            if (_blocks[i].Length > BlockBytes)
            {
                _blocks.RemoveAt(i);
            }
        }

        _block = -1;
        _used = 0;
    }
}
