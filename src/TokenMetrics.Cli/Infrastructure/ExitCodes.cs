namespace TokenMetrics.Cli;

/// <summary>The exit codes of <c>tokenmetrics</c> (documented in the README's command-line section).</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>An input could not be read: missing file, no permission, I/O error (<c>count</c> goes on with the other files).</summary>
    public const int InputError = 1;

    /// <summary>The command line is wrong: unknown option, bad value, missing argument.</summary>
    public const int Usage = 2;

    /// <summary><c>extract</c>: the body is not one TokenMetrics recognises (not JSON, SSE, NDJSON or an AWS event stream, or no
    /// known vendor's shape); nothing is printed as if it had been read.</summary>
    public const int NotRecognised = 3;

    /// <summary>Stopped by Ctrl+C.</summary>
    public const int Cancelled = 130;

    /// <summary>A bug: an exception nobody expected, reported on one line.</summary>
    public const int Internal = 70;
}

/// <summary>An error the user can act on: its message is printed on one line and the process exits with <see cref="ExitCode"/>.</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Messages on one line: a user sees one line per problem, never a stack trace.</summary>
internal static class OneLine
{
    public static string Of(string message) => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static string Of(Exception exception) => $"{exception.GetType().Name}: {Of(exception.Message)}";
}
