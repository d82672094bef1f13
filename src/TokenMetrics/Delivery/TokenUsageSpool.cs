using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace TokenMetrics.Internal;

/// <summary>The on-disk spool of one exporter: batches that could not be exported, kept until they can be.</summary>
/// <remarks>
/// <para>One file per batch, named <c>{unix-ms}-{guid}.spool</c> so that name order is age order. A file is a header line
/// <c>TMSPOOL1 {records} {payload-bytes} {sha256-hex}</c> then the records as JSON lines. It is written to a <c>.tmp</c> name and
/// renamed, so a crash never leaves a half-written <c>.spool</c> file. On read, a file that fails any check is renamed
/// <c>.bad</c> (kept for inspection, counted, never replayed); files with other names are ignored and never touched.</para>
/// <para>Security (the lesson of GHSA-4625-4j76-fww9): the directory is explicit, never a temporary-directory default; it is
/// created owner-only (0700) and files are created owner-only (0600); a directory that is a symbolic link is refused.</para>
/// </remarks>
internal sealed class TokenUsageSpool
{
    private const string Magic = "TMSPOOL1";
    private readonly long _maxBytes;
    private long _bytes;
    private long _corrupt;

    private TokenUsageSpool(string directory, long maxBytes, long bytes)
    {
        Directory = directory;
        _maxBytes = maxBytes;
        _bytes = bytes;
    }

    public string Directory { get; }

    public long Bytes => Interlocked.Read(ref _bytes);

    public long CorruptFiles => Interlocked.Read(ref _corrupt);

    /// <summary>Opens (creating) the spool of one exporter under <paramref name="root"/>.</summary>
    /// <exception cref="IOException">The directory cannot be used safely.</exception>
    public static TokenUsageSpool Open(string root, string exporterName, long maxBytes)
    {
        var directory = Path.Combine(root, Sanitize(exporterName));
        CreateOwnerOnly(root);
        CreateOwnerOnly(directory);
        var bytes = System.IO.Directory.EnumerateFiles(directory, "*.spool").Sum(f => new FileInfo(f).Length);
        return new TokenUsageSpool(directory, maxBytes, bytes);
    }

    /// <summary>Writes a batch; <see langword="false"/> when the spool is full.</summary>
    public bool TryWrite(IReadOnlyList<TokenUsageRecord> batch, TimeProvider timeProvider)
    {
        using var payload = new MemoryStream();
        foreach (var record in batch)
        {
            payload.Write(TokenUsageJson.Serialize(record));
            payload.WriteByte((byte)'\n');
        }

        var body = payload.GetBuffer().AsSpan(0, (int)payload.Length);
        var header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Magic} {batch.Count} {body.Length} {Convert.ToHexStringLower(SHA256.HashData(body))}\n"));
        var size = header.Length + body.Length;
        if (Interlocked.Add(ref _bytes, size) > _maxBytes)
        {
            Interlocked.Add(ref _bytes, -size);
            return false;
        }

        var name = string.Create(CultureInfo.InvariantCulture, $"{timeProvider.GetUtcNow().ToUnixTimeMilliseconds():D13}-{Guid.NewGuid():N}");
        var temp = Path.Combine(Directory, name + ".tmp");
        try
        {
            using (var file = new FileStream(temp, OwnerOnlyCreate()))
            {
                file.Write(header);
                file.Write(body);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, Path.Combine(Directory, name + ".spool"));
            return true;
        }
        catch
        {
            Interlocked.Add(ref _bytes, -size);
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Lists the spooled batch files, oldest first.</summary>
    public string[] ListFiles() =>
        System.IO.Directory.EnumerateFiles(Directory, "*.spool").Where(IsSpoolName).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Reads one file; <see langword="null"/> (and the file renamed <c>.bad</c>) when it fails a check.</summary>
    public List<TokenUsageRecord>? TryRead(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            var newline = Array.IndexOf(bytes, (byte)'\n');
            var parts = newline > 0 ? Encoding.ASCII.GetString(bytes, 0, newline).Split(' ') : [];
            if (parts.Length != 4 || parts[0] != Magic
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var length)
                || bytes.Length - newline - 1 != length)
            {
                return Quarantine(path);
            }

            var body = bytes.AsSpan(newline + 1, length);
            if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(body)), parts[3], StringComparison.Ordinal))
            {
                return Quarantine(path);
            }

            var records = new List<TokenUsageRecord>(count);
            foreach (var line in new SpanLines(body))
            {
                if (TokenUsageJson.Deserialize(line) is { } record)
                {
                    records.Add(record);
                }
            }

            return records.Count == count ? records : Quarantine(path);
        }
        catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            return File.Exists(path) ? Quarantine(path) : null;
        }
    }

    /// <summary>Deletes a replayed file; one already gone (another process sharing the directory took it) is no error.</summary>
    public void Delete(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return;
        }

        var length = info.Length;
        File.Delete(path);
        Interlocked.Add(ref _bytes, -length);
    }

    private List<TokenUsageRecord>? Quarantine(string path)
    {
        try
        {
            var length = new FileInfo(path).Length;
            File.Move(path, Path.ChangeExtension(path, ".bad"), overwrite: true);
            Interlocked.Add(ref _bytes, -length);
        }
        catch (IOException)
        {
        }

        // Counted after the file was set aside, so whoever sees the count sees the .bad file.
        Interlocked.Increment(ref _corrupt);
        return null;
    }

    private static bool IsSpoolName(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        return name.Length == 46 && name[13] == '-' && name.AsSpan(0, 13).IndexOfAnyExceptInRange('0', '9') < 0 && Guid.TryParseExact(name.AsSpan(14), "N", out _);
    }

    private static string Sanitize(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        var result = new string(chars).TrimStart('.');
        return result.Length == 0 ? "exporter" : result;
    }

    private static void CreateOwnerOnly(string directory)
    {
        var info = new DirectoryInfo(directory);
        if (info.Exists && info.LinkTarget is not null)
        {
            throw new IOException($"The spool directory '{directory}' is a symbolic link; refusing to use it.");
        }

        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(directory);
            return;
        }

        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        if (!info.Exists)
        {
            System.IO.Directory.CreateDirectory(directory, OwnerOnly);
        }
        else if ((File.GetUnixFileMode(directory) & ~OwnerOnly) != 0)
        {
            File.SetUnixFileMode(directory, OwnerOnly);
        }
    }

    private static FileStreamOptions OwnerOnlyCreate()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Splits a span on LF without allocating.</summary>
    private ref struct SpanLines(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public ReadOnlySpan<byte> Current { get; private set; }

        public readonly SpanLines GetEnumerator() => this;

        public bool MoveNext()
        {
            while (!_rest.IsEmpty)
            {
                var i = _rest.IndexOf((byte)'\n');
                Current = i < 0 ? _rest : _rest[..i];
                _rest = i < 0 ? default : _rest[(i + 1)..];
                if (!Current.IsEmpty)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
