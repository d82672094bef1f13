using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TokenMetrics.Cli.Ingest;

/// <summary>How far each log file has been ingested: file identity (<see cref="LogFileIdentity"/>) → byte offset of the first
/// line not yet stored, plus a fingerprint of the file's first bytes that tells a reused inode from the file it was.</summary>
/// <remarks>Saved atomically (a temp file renamed over the old one) and only after the store accepted the lines it covers, so a
/// crash can make the next run re-read lines (their ids are known: nothing is stored twice) but never skip one. Identities
/// not present in the latest scan are dropped, so the state stays as small as the set of log files.</remarks>
internal sealed class IngestState
{
    /// <summary>The format version written to the file.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Gets or sets the format version.</summary>
    public int Version { get; set; } = CurrentVersion;

    /// <summary>Gets the files, by identity.</summary>
    public Dictionary<string, IngestFileState> Files { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Loads the state; a missing file is an empty state, an unreadable one a clear error (never silently reset,
    /// though a reset would only cost time: ids dedupe).</summary>
    public static IngestState Load(string path)
    {
        if (!File.Exists(path))
        {
            return new IngestState();
        }

        try
        {
            var bytes = File.ReadAllBytes(path);
            var state = JsonSerializer.Deserialize(bytes, IngestStateJson.Default.IngestState);
            if (state is null || state.Version != CurrentVersion)
            {
                throw new CliException(ExitCodes.InputError, $"{path}: not a tokenmetrics ingest state file (version {state?.Version}); delete it to re-scan the logs (already stored lines are recognised and skipped).");
            }

            return state;
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.InputError, $"{path}: unreadable ingest state ({ex.Message}); delete it to re-scan the logs (already stored lines are recognised and skipped).");
        }
    }

    /// <summary>Writes the state to a temp file next to <paramref name="path"/> and renames it over the old one.</summary>
    public void Save(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
        {
            JsonSerializer.Serialize(stream, this, IngestStateJson.Default.IngestState);
        }

        File.Move(temp, full, overwrite: true);
    }

    /// <summary>Drops the identities not in <paramref name="seen"/> (files rotated away or deleted).</summary>
    public void Retain(IReadOnlySet<string> seen)
    {
        foreach (var key in new List<string>(Files.Keys))
        {
            if (!seen.Contains(key))
            {
                Files.Remove(key);
            }
        }
    }
}

/// <summary>One file's progress.</summary>
internal sealed class IngestFileState
{
    /// <summary>Gets or sets the byte offset of the first line not yet stored.</summary>
    public long Offset { get; set; }

    /// <summary>Gets or sets the SHA-256 (hex, first 16 bytes) of the file's first <see cref="FingerprintLength"/> bytes.</summary>
    public string Fingerprint { get; set; } = string.Empty;

    /// <summary>Gets or sets how many leading bytes <see cref="Fingerprint"/> covers.</summary>
    public int FingerprintLength { get; set; }

    /// <summary>Gets or sets the path the file had when last read (for people reading the state file).</summary>
    public string? Path { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(IngestState))]
internal sealed partial class IngestStateJson : JsonSerializerContext;
