namespace TokenMetrics.Cli;

/// <summary>SQLite's process-wide threading mode for the tool's own process.</summary>
internal static class SqliteProcessMode
{
    /// <summary>Switches SQLite to multi-thread mode with memory statistics off, before any connection opens. The bundled build is
    /// serialized: every call (42 binds and a step per ingested record) takes the connection's mutex, and every allocation a
    /// global one; together about 5% of an ingest's CPU. The tool never uses one connection from two threads at once, which is
    /// all multi-thread mode asks. The library does not do this: an application's process is not ours to configure.</summary>
    /// <returns><see langword="true"/> when SQLite accepted the settings (it refuses them once initialized).</returns>
    public static bool UseMultiThread()
    {
        SQLitePCL.Batteries_V2.Init();
        return SQLitePCL.raw.sqlite3_config(SQLitePCL.raw.SQLITE_CONFIG_MULTITHREAD) == SQLitePCL.raw.SQLITE_OK
            && SQLitePCL.raw.sqlite3_config(SQLitePCL.raw.SQLITE_CONFIG_MEMSTATUS, 0) == SQLitePCL.raw.SQLITE_OK;
    }
}
