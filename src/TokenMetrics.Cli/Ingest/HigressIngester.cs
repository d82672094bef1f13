using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Cli.Ingest;

/// <summary>What one ingest run (or one <c>--follow</c> session so far) did.</summary>
internal sealed class IngestCounters
{
    /// <summary>How many malformed lines are named in the summary.</summary>
    public const int MaxMalformedNamed = 5;

    public long LinesRead { get; set; }

    public long RecordsWritten { get; set; }

    public long Duplicates { get; set; }

    public long Malformed { get; set; }

    public long BytesRead { get; set; }

    /// <summary>Gets the log files that had new bytes.</summary>
    public HashSet<string> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets the first malformed lines, as <c>FILE:LINE (why)</c>.</summary>
    public List<string> MalformedAt { get; } = [];

    public void Add(IngestCounters other)
    {
        LinesRead += other.LinesRead;
        RecordsWritten += other.RecordsWritten;
        Duplicates += other.Duplicates;
        Malformed += other.Malformed;
        BytesRead += other.BytesRead;
        Files.UnionWith(other.Files);
        foreach (var at in other.MalformedAt)
        {
            if (MalformedAt.Count < MaxMalformedNamed)
            {
                MalformedAt.Add(at);
            }
        }
    }

    /// <summary>The summary line.</summary>
    public string Describe(TimeSpan elapsed)
    {
        var rate = LinesRead / Math.Max(elapsed.TotalSeconds, 1e-3);
        var malformed = Malformed == 0 ? "0 malformed" : $"{Malformed:N0} malformed ({string.Join(", ", MalformedAt)}{(Malformed > MalformedAt.Count ? ", ..." : string.Empty)})";
        return string.Create(CultureInfo.InvariantCulture,
            $"{LinesRead:N0} lines read, {RecordsWritten:N0} records written, {Duplicates:N0} duplicates (already stored), {malformed}, {Files.Count} file{(Files.Count == 1 ? string.Empty : "s")}, {rate:N0} lines/s");
    }
}

/// <summary>Settings of <see cref="HigressIngester"/>.</summary>
internal sealed record HigressIngestSettings
{
    /// <summary>The live log file; its rotations are <c>PATH.1</c> (newest) … <c>PATH.100</c>.</summary>
    public required string LogPath { get; init; }

    /// <summary>The state file.</summary>
    public required string StatePath { get; init; }

    /// <summary>Keep question, answer, reasoning and tool calls (off by default: privacy).</summary>
    public bool CaptureContent { get; init; }

    /// <summary>The default <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 4096;

    /// <summary>Records per store write (and per state save).</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>The price catalog.</summary>
    public TokenUsagePriceCatalog Catalog { get; init; } = TokenUsagePriceCatalog.Default;

    /// <summary>Rotations scanned: <c>PATH.N</c> for N from this down to 1.</summary>
    public int MaxRotations { get; init; } = 100;
}

/// <summary>Reads a Higress access log and its rotations incrementally into a store: oldest rotation first, each file from the
/// offset its identity reached last time, complete lines only, a batch written before the state that covers it is saved.</summary>
internal sealed class HigressIngester
{
    private const int InitialBuffer = 1 << 20;
    private const int MaxLineBytes = 16 << 20;
    private const int FingerprintBytes = 1024;

    private readonly HigressIngestSettings _settings;
    private readonly ITokenUsageStore _store;
    private readonly HigressLineParser _parser;
    private readonly IngestState _state;

    // The write in flight: the store takes batch N on a worker thread while this thread parses batch N+1 (two cores, two
    // stages). Its offset is saved to the state only once it completes; one write at a time keeps the order.
    private Task<int>? _writing;
    private List<TokenUsageRecord>? _writingBatch;
    private long _writingOffset;
    private List<TokenUsageRecord>? _spare;

    public HigressIngester(HigressIngestSettings settings, ITokenUsageStore store)
    {
        _settings = settings;
        _store = store;
        _parser = new HigressLineParser(settings.Catalog, settings.CaptureContent);
        _state = IngestState.Load(settings.StatePath);
    }

    /// <summary>The files to read, oldest first: <c>PATH.N</c> … <c>PATH.1</c>, then <c>PATH</c>.</summary>
    public IReadOnlyList<string> ListFiles()
    {
        var files = new List<string>();
        for (var i = _settings.MaxRotations; i >= 1; i--)
        {
            var rotated = _settings.LogPath + "." + i.ToString(CultureInfo.InvariantCulture);
            if (File.Exists(rotated))
            {
                files.Add(rotated);
            }
        }

        if (File.Exists(_settings.LogPath))
        {
            files.Add(_settings.LogPath);
        }

        return files;
    }

    /// <summary>Bytes not yet ingested (for the progress bar; fingerprints are not checked here).</summary>
    public long PendingBytes()
    {
        long pending = 0;
        foreach (var path in ListFiles())
        {
            try
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var length = RandomAccess.GetLength(handle);
                var offset = _state.Files.TryGetValue(LogFileIdentity.Of(handle, path), out var known) && known.Offset <= length ? known.Offset : 0;
                pending += length - offset;
            }
            catch (FileNotFoundException)
            {
                // Rotated away since the listing.
            }
        }

        return pending;
    }

    /// <summary>One pass over the log and its rotations.</summary>
    /// <param name="progress">Receives the bytes consumed so far in this pass, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops the pass; what was stored is in the state.</param>
    /// <returns>What the pass did.</returns>
    public async Task<IngestCounters> RunOnceAsync(IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var counters = new IngestCounters();
        var files = ListFiles();
        if (files.Count == 0)
        {
            return counters;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Microsoft.Win32.SafeHandles.SafeFileHandle handle;
            try
            {
                handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (FileNotFoundException)
            {
                continue;
            }

            using (handle)
            {
                var identity = LogFileIdentity.Of(handle, path);
                if (!seen.Add(identity))
                {
                    // Renamed during the scan and listed twice: one read is enough.
                    continue;
                }

                var file = _state.Files.TryGetValue(identity, out var known) ? known : new IngestFileState();
                var length = RandomAccess.GetLength(handle);
                var offset = file.Offset;
                if (offset > length || (file.FingerprintLength > 0 && !FingerprintMatches(handle, file)))
                {
                    // Truncated, or the inode now belongs to another file: start over (known lines keep their ids).
                    offset = 0;
                    file = new IngestFileState();
                }

                _state.Files[identity] = file;
                file.Path = path;
                if (offset < length)
                {
                    await ReadAsync(handle, path, file, offset, counters, progress, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        _state.Retain(seen);
        _state.Save(_settings.StatePath);
        return counters;
    }

    private async Task ReadAsync(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string path, IngestFileState file, long offset, IngestCounters counters, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(path);
        var fileTime = new DateTimeOffset(File.GetLastWriteTimeUtc(handle), TimeSpan.Zero);
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
        var batch = new List<TokenUsageRecord>(Math.Min(_settings.BatchSize, 65536));
        long bufferStart = offset, consumed = offset;
        long lineNumber = offset == 0 ? 0 : -1;
        var filled = 0;
        var skipping = false;
        var startBytes = counters.BytesRead;
        try
        {
            while (true)
            {
                var read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(filled), bufferStart + filled, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                filled += read;
                var position = 0;
                int newline;
                while ((newline = buffer.AsSpan(position, filled - position).IndexOf((byte)'\n')) >= 0)
                {
                    var line = buffer.AsSpan(position, newline);
                    var lineOffset = bufferStart + position;
                    position += newline + 1;
                    lineNumber = lineNumber >= 0 ? lineNumber + 1 : -1;
                    if (skipping)
                    {
                        // The tail of a line longer than the limit, already counted.
                        skipping = false;
                    }
                    else
                    {
                        Handle(line, lineOffset, lineNumber, name, fileTime, batch, counters);
                    }

                    if (batch.Count >= _settings.BatchSize)
                    {
                        counters.BytesRead += bufferStart + position - consumed;
                        consumed = bufferStart + position;
                        batch = await StartWriteAsync(batch, file, handle, consumed, counters, cancellationToken).ConfigureAwait(false);
                        progress?.Report(counters.BytesRead - startBytes);
                    }
                }

                if (position == 0 && filled == buffer.Length)
                {
                    if (buffer.Length < MaxLineBytes && !skipping)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, filled).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    else
                    {
                        // A line over the limit: count it once and drop bytes until its newline.
                        if (!skipping)
                        {
                            Malformed(counters, name, lineNumber >= 0 ? lineNumber + 1 : -1, bufferStart, "line longer than 16 MB");
                            skipping = true;
                        }

                        bufferStart += filled;
                        filled = 0;
                    }

                    continue;
                }

                buffer.AsSpan(position, filled - position).CopyTo(buffer);
                bufferStart += position;
                filled -= position;
                progress?.Report(counters.BytesRead + (bufferStart - consumed) - startBytes);
            }

            // A partial last line (no newline yet) stays unconsumed until it is complete.
            counters.BytesRead += bufferStart - consumed;
            if (bufferStart > consumed || batch.Count > 0)
            {
                batch = await StartWriteAsync(batch, file, handle, bufferStart, counters, cancellationToken).ConfigureAwait(false);
            }

            await CompleteWriteAsync(file, handle, counters).ConfigureAwait(false);

            if (bufferStart > offset)
            {
                counters.Files.Add(path);
            }

            progress?.Report(counters.BytesRead - startBytes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (_writing is { } pending)
            {
                // Cancelled or failed mid-file: let the write in flight end (its records are stored or not; the state does
                // not move past them either way, so a rerun re-reads them and the store ignores the ones it has).
                await ((Task)pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                _writing = null;
            }
        }
    }

    private void Handle(ReadOnlySpan<byte> line, long lineOffset, long lineNumber, string name, DateTimeOffset fileTime, List<TokenUsageRecord> batch, IngestCounters counters)
    {
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (line.Trim(" \t"u8).IsEmpty)
        {
            return;
        }

        counters.LinesRead++;
        if (_parser.TryParse(line, lineOffset, fileTime, out var record, out var problem))
        {
            batch.Add(record!);
        }
        else
        {
            Malformed(counters, name, lineNumber, lineOffset, problem ?? "unreadable");
        }
    }

    private static void Malformed(IngestCounters counters, string name, long lineNumber, long offset, string problem)
    {
        counters.Malformed++;
        if (counters.MalformedAt.Count < IngestCounters.MaxMalformedNamed)
        {
            counters.MalformedAt.Add(lineNumber >= 0
                ? string.Create(CultureInfo.InvariantCulture, $"{name}:{lineNumber} {problem}")
                : string.Create(CultureInfo.InvariantCulture, $"{name} at byte {offset} {problem}"));
        }
    }

    /// <summary>Waits for the write in flight, hands <paramref name="batch"/> to the store on a worker thread, and only then records
    /// the finished write in the state (so saving the state overlaps the next write); returns an empty list to fill next.</summary>
    private async Task<List<TokenUsageRecord>> StartWriteAsync(List<TokenUsageRecord> batch, IngestFileState file, Microsoft.Win32.SafeHandles.SafeFileHandle handle, long offset, IngestCounters counters, CancellationToken cancellationToken)
    {
        var stored = await FinishWriteAsync(counters).ConfigureAwait(false);
        _writingBatch = batch;
        _writingOffset = offset;
        _writing = batch.Count == 0
            ? Task.FromResult(0)
            : Task.Run(async () => await _store.WriteAsync(batch, cancellationToken).ConfigureAwait(false), cancellationToken);
        if (stored is { } storedTo)
        {
            SaveOffset(file, handle, storedTo);
        }

        var next = _spare ?? new List<TokenUsageRecord>(batch.Capacity);
        _spare = null;
        return next;
    }

    /// <summary>Waits for the write in flight (its failure surfaces here), then (only then) moves the file's offset and saves
    /// the state.</summary>
    private async Task CompleteWriteAsync(IngestFileState file, Microsoft.Win32.SafeHandles.SafeFileHandle handle, IngestCounters counters)
    {
        if (await FinishWriteAsync(counters).ConfigureAwait(false) is { } storedTo)
        {
            SaveOffset(file, handle, storedTo);
        }
    }

    /// <summary>Waits for the write in flight and counts it; returns the file offset it covers, or <see langword="null"/> when no
    /// write was in flight.</summary>
    private async Task<long?> FinishWriteAsync(IngestCounters counters)
    {
        if (_writing is not { } pending)
        {
            return null;
        }

        int written;
        try
        {
            written = await pending.ConfigureAwait(false);
        }
        finally
        {
            _writing = null;
        }

        var batch = _writingBatch!;
        counters.RecordsWritten += written;
        counters.Duplicates += batch.Count - written;
        batch.Clear();
        _spare = batch;
        return _writingOffset;
    }

    /// <summary>Records that the file is stored up to <paramref name="offset"/> and saves the state.</summary>
    private void SaveOffset(IngestFileState file, Microsoft.Win32.SafeHandles.SafeFileHandle handle, long offset)
    {
        file.Offset = offset;
        if (file.FingerprintLength < FingerprintBytes)
        {
            (file.Fingerprint, file.FingerprintLength) = Fingerprint(handle, (int)Math.Min(FingerprintBytes, offset));
        }

        _state.Save(_settings.StatePath);
    }

    private static bool FingerprintMatches(Microsoft.Win32.SafeHandles.SafeFileHandle handle, IngestFileState file)
    {
        if (RandomAccess.GetLength(handle) < file.FingerprintLength)
        {
            return false;
        }

        var (hash, length) = Fingerprint(handle, file.FingerprintLength);
        return length == file.FingerprintLength && string.Equals(hash, file.Fingerprint, StringComparison.Ordinal);
    }

    private static (string Hash, int Length) Fingerprint(Microsoft.Win32.SafeHandles.SafeFileHandle handle, int length)
    {
        Span<byte> head = stackalloc byte[FingerprintBytes];
        var total = 0;
        while (total < length)
        {
            var read = RandomAccess.Read(handle, head[total..length], total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(head[..total], digest);
        return (Convert.ToHexStringLower(digest[..16]), total);
    }
}
