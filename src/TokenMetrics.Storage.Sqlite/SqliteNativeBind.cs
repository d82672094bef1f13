using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;

namespace TokenMetrics.Storage.Sqlite;

/// <summary>Direct calls to the bundled SQLite's <c>sqlite3_bind_*</c> functions, for the insert path only.</summary>
/// <remarks>Why: a row binds 42 values, and through SQLitePCL each bind pays an interface call, a SafeHandle reference count
/// taken and released (two interlocked operations) and a full P/Invoke transition; in the write profile those were a fifth of the
/// CPU time. The bind functions only copy a value into the statement and never block here (the writer connection is used under
/// the store's write lock, so its mutex is never contended), which is what <c>SuppressGCTransition</c> requires. The exports are
/// resolved from the very library SQLitePCL loaded (same name, resolved for SQLitePCL's own assembly), only when SQLitePCL runs
/// the bundled <c>e_sqlite3</c> provider, and checked once by a round trip; anything else falls back to SQLitePCL's binds.</remarks>
internal static unsafe class SqliteNativeBind
{
    private const string LibraryName = "e_sqlite3";
    private static readonly nint Transient = -1; // SQLITE_TRANSIENT: SQLite copies the value before the call returns.
    private static readonly nint Static = 0; // SQLITE_STATIC: SQLite reads the caller's memory until the value is bound again.

    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<nint, int, int> BindNullFn;
    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<nint, int, long, int> BindInt64Fn;
    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<nint, int, byte*, int, nint, int> BindTextFn;
    private static readonly delegate* unmanaged[Cdecl, SuppressGCTransition]<nint, int, byte*, int, nint, int> BindBlobFn;

#pragma warning disable CA1810 // the exports are resolved together or not at all
    static SqliteNativeBind()
#pragma warning restore CA1810
    {
        try
        {
            if (!string.Equals(SQLitePCL.raw.GetNativeLibraryName(), LibraryName, StringComparison.Ordinal))
            {
                return;
            }

            // Resolved as SQLitePCL's provider resolves its own imports, so the handle is the library it already loaded.
            var provider = Type.GetType("SQLitePCL.SQLite3Provider_e_sqlite3, SQLitePCLRaw.provider.e_sqlite3", throwOnError: false)?.Assembly;
            if (provider is null
                || !NativeLibrary.TryLoad(LibraryName, provider, null, out var library)
                || !NativeLibrary.TryGetExport(library, "sqlite3_bind_null", out var bindNull)
                || !NativeLibrary.TryGetExport(library, "sqlite3_bind_int64", out var bindInt64)
                || !NativeLibrary.TryGetExport(library, "sqlite3_bind_text", out var bindText)
                || !NativeLibrary.TryGetExport(library, "sqlite3_bind_blob", out var bindBlob))
            {
                return;
            }

            BindNullFn = (delegate* unmanaged[Cdecl, SuppressGCTransition]<nint, int, int>)bindNull;
            BindInt64Fn = (delegate* unmanaged[Cdecl, SuppressGCTransition]<nint, int, long, int>)bindInt64;
            BindTextFn = (delegate* unmanaged[Cdecl, SuppressGCTransition]<nint, int, byte*, int, nint, int>)bindText;
            BindBlobFn = (delegate* unmanaged[Cdecl, SuppressGCTransition]<nint, int, byte*, int, nint, int>)bindBlob;
            Available = true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or TargetInvocationException or InvalidOperationException or NotSupportedException)
        {
            Available = false;
        }
    }

    private static int s_checked; // 0 not yet, 1 passed, -1 failed

    /// <summary>Gets a value indicating whether the direct binds are there and passed <see cref="Check"/> (else bind through
    /// SQLitePCL).</summary>
    public static bool Available { get => field && Volatile.Read(ref s_checked) == 1; private set; }

    /// <summary>Binds three values directly to a statement prepared through SQLitePCL and reads them back through SQLitePCL,
    /// once per process: the direct binds are used only when they land in SQLitePCL's statements.</summary>
    /// <param name="db">An open connection's handle.</param>
    public static void Check(SQLitePCL.sqlite3 db)
    {
        if (Volatile.Read(ref s_checked) != 0 || BindInt64Fn is null)
        {
            return;
        }

        var passed = false;
        if (SQLitePCL.raw.sqlite3_prepare_v2(db, "SELECT ?1, ?2, ?3, ?4", out var statement) == SQLitePCL.raw.SQLITE_OK)
        {
            using (statement)
            {
                var handle = statement.DangerousGetHandle();
                passed = Int64(handle, 1, 0x0123_4567_89AB_CDEF) == 0
                    && Text(handle, 2, "tm \u2713"u8) == 0
                    && Blob(handle, 3, [1, 2, 3]) == 0
                    && Null(handle, 4) == 0
                    && SQLitePCL.raw.sqlite3_step(statement) == SQLitePCL.raw.SQLITE_ROW
                    && SQLitePCL.raw.sqlite3_column_int64(statement, 0) == 0x0123_4567_89AB_CDEF
                    && SQLitePCL.raw.sqlite3_column_text(statement, 1).utf8_to_string() == "tm \u2713"
                    && SQLitePCL.raw.sqlite3_column_blob(statement, 2).SequenceEqual((byte[])[1, 2, 3])
                    && SQLitePCL.raw.sqlite3_column_type(statement, 3) == SQLitePCL.raw.SQLITE_NULL;
            }
        }

        _ = Interlocked.CompareExchange(ref s_checked, passed ? 1 : -1, 0);
    }

    public static int Null(nint statement, int index) => BindNullFn(statement, index);

    public static int Int64(nint statement, int index, long value) => BindInt64Fn(statement, index, value);

    public static int Text(nint statement, int index, ReadOnlySpan<byte> utf8)
    {
        fixed (byte* p = utf8)
        {
            // A non-null pointer even for empty text: NULL text would bind SQL NULL.
            byte empty = 0;
            return BindTextFn(statement, index, p is null ? &empty : p, utf8.Length, Transient);
        }
    }

    public static int Blob(nint statement, int index, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            byte empty = 0;
            return BindBlobFn(statement, index, p is null ? &empty : p, bytes.Length, Transient);
        }
    }

    /// <summary>Binds text without a copy: <paramref name="utf8"/> must be pinned memory that stays unchanged until the
    /// statement has run (<see cref="SqliteStatementBinds"/>). Saves SQLite's allocation, copy and free of every value.</summary>
    public static int TextStatic(nint statement, int index, ReadOnlySpan<byte> utf8)
    {
        fixed (byte* p = utf8)
        {
            byte empty = 0;
            return BindTextFn(statement, index, p is null ? &empty : p, utf8.Length, utf8.IsEmpty ? Transient : Static);
        }
    }

    /// <summary>Binds a blob without a copy (see <see cref="TextStatic"/>).</summary>
    public static int BlobStatic(nint statement, int index, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            byte empty = 0;
            return BindBlobFn(statement, index, p is null ? &empty : p, bytes.Length, bytes.IsEmpty ? Transient : Static);
        }
    }
}
