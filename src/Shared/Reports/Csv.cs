using System.Collections.Generic;
using System.Text;

namespace TokenMetrics.Reports.Internal;

/// <summary>RFC 4180 CSV with formula-injection protection: a cell that a spreadsheet would run as a formula (it starts with
/// <c>= + - @</c>, tab, CR or NUL) gets a leading <c>'</c>; a cell with a comma, quote, CR or LF is quoted, quotes doubled.
/// Lines end with CRLF.</summary>
internal static class Csv
{
    public static void AppendRow(StringBuilder text, IEnumerable<string?> cells)
    {
        var first = true;
        foreach (var cell in cells)
        {
            if (!first)
            {
                _ = text.Append(',');
            }

            first = false;
            AppendCell(text, cell ?? string.Empty);
        }

        _ = text.Append("\r\n");
    }

    public static string Escape(string cell)
    {
        var text = new StringBuilder();
        AppendCell(text, cell);
        return text.ToString();
    }

    private static void AppendCell(StringBuilder text, string cell)
    {
        if (cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '\0')
        {
            cell = "'" + cell;
        }

        if (cell.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            _ = text.Append(cell);
            return;
        }

        _ = text.Append('"').Append(cell.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }
}
