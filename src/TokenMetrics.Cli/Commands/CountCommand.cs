using System.Buffers;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace TokenMetrics.Cli.Commands;

/// <summary><c>tokenmetrics count [--encoding NAME | --model NAME] [--json] FILE...</c>: exact tiktoken counts of files or stdin.</summary>
internal static class CountCommand
{
    // Below this size a file is counted before a progress line would be worth drawing.
    private const long ProgressThreshold = 4 << 20;

    private const int ReadSize = 1 << 20;

    public static Command Create()
    {
        var encoding = new Option<string?>("--encoding", "-e")
        {
            Description = $"The encoding: {string.Join(", ", TiktokenEncoding.EncodingNames)}. Default: o200k_base.",
            HelpName = "NAME",
        };
        var model = new Option<string?>("--model", "-m")
        {
            Description = "Pick the encoding of this model (gpt-4o, gpt-4, ft:..., text-embedding-3-small...). Other vendors' models get o200k_base as an approximation.",
            HelpName = "NAME",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object per file: {\"file\", \"encoding\", \"tokens\", \"bytes\", \"exact\"}.",
        };
        var files = new Argument<string[]>("FILE")
        {
            Description = "Files to count (UTF-8). Reads stdin when none is given, or for \"-\".",
            Arity = ArgumentArity.ZeroOrMore,
        };

        var command = new Command("count", "Count the tokens of files exactly as OpenAI's tiktoken does.") { encoding, model, json, files };
        command.Validators.Add(result =>
        {
            if (result.GetResult(encoding) is not null && result.GetResult(model) is not null)
            {
                result.AddError("Use either --encoding or --model, not both.");
            }

            if (result.GetValue(encoding) is { } name && !TiktokenEncoding.TryGetEncoding(name, out _))
            {
                result.AddError($"Unknown encoding '{name}'. Known: {string.Join(", ", TiktokenEncoding.EncodingNames)}.");
            }
        });
        command.SetAction((parse, cancellationToken) => RunAsync(
            new Settings(parse.GetValue(encoding), parse.GetValue(model), parse.GetValue(json), parse.GetValue(files) ?? []),
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error,
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(Settings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var approximate = false;
        var tokenizer = settings.Model is not null
            ? TiktokenEncoding.GetEncoding(TiktokenModels.GetEncodingName(settings.Model, out approximate))
            : TiktokenEncoding.GetEncoding(settings.Encoding ?? TiktokenEncoding.O200kBaseName);
        if (approximate)
        {
            await error.WriteLineAsync($"note: '{settings.Model}' is not a known OpenAI model; {tokenizer.Name} counts are an approximation of its tokenizer.").ConfigureAwait(false);
        }

        var inputs = settings.Files.Length == 0 ? ["-"] : settings.Files;
        var rows = new List<Row>();
        var exitCode = 0;
        foreach (var file in inputs)
        {
            try
            {
                var row = await CountAsync(tokenizer, file, error, cancellationToken).ConfigureAwait(false);
                if (settings.Json)
                {
                    await output.WriteLineAsync(ToJson(row, tokenizer.Name, approximate)).ConfigureAwait(false);
                }

                rows.Add(row);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"tokenmetrics count: {file}: {OneLine.Of(ex.Message)}").ConfigureAwait(false);
                exitCode = ExitCodes.InputError;
            }
        }

        if (!settings.Json && rows.Count > 0)
        {
            await output.WriteAsync(Table(rows, tokenizer.Name + (approximate ? " (approximation)" : string.Empty))).ConfigureAwait(false);
        }

        return exitCode;
    }

    private static async Task<Row> CountAsync(TiktokenEncoding tokenizer, string file, TextWriter error, CancellationToken cancellationToken)
    {
        var stdin = file == "-";
        var stream = stdin ? Console.OpenStandardInput() : new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            long? size = stdin ? null : stream.Length;
            var progress = !Console.IsErrorRedirected && (size is null or > ProgressThreshold) ? new ProgressLine(error, file, size) : null;
            // The stream counter keeps a bounded window whatever the input (a word of any length is merged by the linear BPE
            // as it streams by), so the count is exact and memory stays at the read buffer plus that window.
            var counter = tokenizer.CreateStreamCounter();
            var buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer.AsMemory(0, ReadSize), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    counter.Append(buffer.AsSpan(0, read));
                    progress?.Report(counter.BytesAppended);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            var tokens = counter.Complete();
            progress?.Clear();
            return new Row(stdin ? "-" : file, tokens, counter.BytesAppended);
        }
    }

    private static string ToJson(Row row, string encoding, bool approximate)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("file", row.File);
            writer.WriteString("encoding", encoding);
            writer.WriteNumber("tokens", row.Tokens);
            writer.WriteNumber("bytes", row.Bytes);
            writer.WriteBoolean("exact", true); // kept for scripts that read it; every count is exact since the stream counter

            if (approximate)
            {
                writer.WriteBoolean("approximate", true);
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static string Table(List<Row> rows, string encoding)
    {
        var all = new List<Row>(rows);
        if (rows.Count > 1)
        {
            all.Add(new Row("total", rows.Sum(r => r.Tokens), rows.Sum(r => r.Bytes)));
        }

        static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
        static string Ratio(Row r) => r.Tokens == 0 ? "-" : (r.Bytes / (double)r.Tokens).ToString("F2", CultureInfo.InvariantCulture);
        var tokenWidth = Math.Max("tokens".Length, all.Max(r => N(r.Tokens).Length));
        var byteWidth = Math.Max("bytes".Length, all.Max(r => N(r.Bytes).Length));
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        writer.WriteLine($"{"tokens".PadLeft(tokenWidth)}  {"bytes".PadLeft(byteWidth)}  bytes/token  file ({encoding})");
        foreach (var row in all)
        {
            writer.WriteLine($"{N(row.Tokens).PadLeft(tokenWidth)}  {N(row.Bytes).PadLeft(byteWidth)}  {Ratio(row),11}  {row.File}");
        }

        return writer.ToString();
    }

    private sealed record Settings(string? Encoding, string? Model, bool Json, string[] Files);

    private sealed record Row(string File, long Tokens, long Bytes);
}
