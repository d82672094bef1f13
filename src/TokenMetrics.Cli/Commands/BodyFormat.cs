using System.Text;

namespace TokenMetrics.Cli.Commands;

/// <summary>What a captured body looks like: its media type as the vendor would have sent it.</summary>
internal sealed record BodyFormat(string MediaType, bool IsStream)
{
    public static readonly BodyFormat Json = new("application/json", false);
    public static readonly BodyFormat JsonArrayStream = new("application/json", true);
    public static readonly BodyFormat EventStream = new("text/event-stream", true);
    public static readonly BodyFormat NdJson = new("application/x-ndjson", true);
    public static readonly BodyFormat AwsEventStream = new("application/vnd.amazon.eventstream", true);

    public static BodyFormat Sniff(byte[] body)
    {
        var head = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 4096)).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (LooksBinary(body))
        {
            return AwsEventStream;
        }

        if (head.StartsWith("data:", StringComparison.Ordinal) || head.StartsWith("event:", StringComparison.Ordinal) || head.StartsWith(':') || head.Contains("\ndata:", StringComparison.Ordinal))
        {
            return EventStream;
        }

        if (head.StartsWith('['))
        {
            return JsonArrayStream;
        }

        // Several JSON objects, one per line.
        var lines = head.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length > 1 && lines[0].TrimEnd('\r').EndsWith('}') && lines[1].TrimStart().StartsWith('{') ? NdJson : Json;
    }

    private static bool LooksBinary(byte[] body)
    {
        var n = Math.Min(body.Length, 64);
        for (var i = 0; i < n; i++)
        {
            if (body[i] == 0)
            {
                return true;
            }
        }

        return false;
    }
}
