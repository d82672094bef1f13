using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;

namespace TokenMetrics.Demo;

/// <summary>The demo's own command line; everything else (<c>--Demo:PostgreSql ...</c>) goes on to the host's configuration.</summary>
internal sealed class DemoOptions
{
    public const string Usage = """
        Usage: dotnet run --project samples/TokenMetrics.Demo [-- options]
          --port N            dashboard port on 127.0.0.1 (default 5088; 0 = a free port)
          --token T           the API token (default: a random one per run)
          --data DIR          where demo-usage.db lives (default .tokenmetrics)
          --rate R            background calls per second, jittered (default 2; 0 = only the first burst)
          --history-days N    synthetic past records over the last N days, tagged demo=history (default 7; 0 = none)
          --once              run the scripted calls, print the table and exit
          --Demo:Key value    configuration (Demo:PostgreSql, Demo:InfluxDb, Demo:PrometheusPort: see the README)
        """;

    public bool Once { get; private set; }

    public int Port { get; private set; } = 5088;

    public string Token { get; private set; } = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public string DataDirectory { get; private set; } = ".tokenmetrics";

    public double Rate { get; private set; } = 2;

    public int HistoryDays { get; private set; } = 7;

    public string DatabasePath => Path.Combine(DataDirectory, "demo-usage.db");

    /// <summary>The arguments that are not the demo's, for the host builder's command-line configuration.</summary>
    public IReadOnlyList<string> HostArgs { get; private set; } = [];

    /// <summary>Parses <paramref name="args"/>; returns an error message, or <see langword="null"/>.</summary>
    public static (DemoOptions Options, string? Error) Parse(string[] args)
    {
        var options = new DemoOptions();
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value.");
            try
            {
                switch (args[i])
                {
                    case "--once":
                        options.Once = true;
                        break;
                    case "--port":
                        options.Port = int.Parse(Value(), NumberStyles.None, CultureInfo.InvariantCulture);
                        if (options.Port > 65535)
                        {
                            throw new FormatException("--port must be 0..65535.");
                        }

                        break;
                    case "--token":
                        options.Token = Value();
                        if (options.Token.Length < 16)
                        {
                            throw new FormatException("--token must have at least 16 characters.");
                        }

                        break;
                    case "--data":
                        options.DataDirectory = Value();
                        break;
                    case "--rate":
                        options.Rate = double.Parse(Value(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
                        if (options.Rate > 50)
                        {
                            throw new FormatException("--rate must be 0..50 calls per second.");
                        }

                        break;
                    case "--history-days":
                        options.HistoryDays = int.Parse(Value(), NumberStyles.None, CultureInfo.InvariantCulture);
                        if (options.HistoryDays > 90)
                        {
                            throw new FormatException("--history-days must be 0..90.");
                        }

                        break;
                    case "--help" or "-h":
                        return (options, string.Empty);
                    case ['-', '-', ..] when args[i].Contains(':', StringComparison.Ordinal):
                        // Configuration for the host: --Demo:PostgreSql "..." (or --Demo:InfluxDb=...).
                        rest.Add(args[i]);
                        if (!args[i].Contains('=', StringComparison.Ordinal))
                        {
                            rest.Add(Value());
                        }

                        break;
                    default:
                        throw new FormatException($"Unknown argument '{args[i]}'.");
                }
            }
            catch (Exception ex) when (ex is FormatException or OverflowException)
            {
                return (options, ex.Message);
            }
        }

        options.HostArgs = rest;
        return (options, null);
    }
}
