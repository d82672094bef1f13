using System.Collections.Generic;
using System.IO;

namespace TokenMetrics;

/// <summary>Options of <see cref="AiLogFileExporter"/>; validated at start-up.</summary>
public sealed class AiLogExporterOptions
{
    /// <summary>Gets or sets the directory of the log files. Created owner-only (0700 on Unix) when missing; never a temp fallback.</summary>
    /// <value>Required, absolute.</value>
    public string? Directory { get; set; }

    /// <summary>Gets or sets the file name; rotated files get <c>.1</c> to <c>.N</c> appended.</summary>
    /// <value>Defaults to <c>ai_log.jsonl</c>. A plain name: no directory parts.</value>
    public string FileName { get; set; } = "ai_log.jsonl";

    /// <summary>Gets or sets the size at which the file is rotated.</summary>
    /// <value>Defaults to 100 MiB. At least 1 KiB.</value>
    public long MaxFileBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>Gets or sets how many rotated files (<c>.1</c> newest to <c>.N</c> oldest) are kept.</summary>
    /// <value>Defaults to 5. From 0 (no rotated files: the file restarts empty) to 1000.</value>
    public int MaxRotatedFiles { get; set; } = 5;

    /// <summary>Gets or sets a value indicating whether each line is wrapped as <c>{"timestamp":"...","ai_log":"&lt;json string&gt;"}</c>,
    /// the access-log shape that Higress tools (agent-session-monitor) read.</summary>
    /// <value>Defaults to <see langword="false"/>: one ai_log JSON object per line.</value>
    public bool Wrap { get; set; }

    /// <summary>Gets or sets a value indicating whether each batch is flushed through to the disk (fsync) before the export succeeds.</summary>
    /// <value>Defaults to <see langword="false"/> (flushed to the operating system only).</value>
    public bool FlushToDisk { get; set; }

    internal List<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Directory) || !Path.IsPathFullyQualified(Directory))
        {
            errors.Add("AiLogExporterOptions.Directory is required and must be an absolute path (there is no temp-directory fallback).");
        }

        if (string.IsNullOrWhiteSpace(FileName) || FileName != Path.GetFileName(FileName) || FileName is "." or ".." ||
            FileName.AsSpan().IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            errors.Add("AiLogExporterOptions.FileName must be a plain file name.");
        }

        if (MaxFileBytes < 1024)
        {
            errors.Add("AiLogExporterOptions.MaxFileBytes must be at least 1024.");
        }

        if (MaxRotatedFiles is < 0 or > 1000)
        {
            errors.Add("AiLogExporterOptions.MaxRotatedFiles must be between 0 and 1000.");
        }

        return errors;
    }
}
