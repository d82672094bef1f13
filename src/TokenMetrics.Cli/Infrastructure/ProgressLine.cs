using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace TokenMetrics.Cli;

/// <summary>A single self-overwriting progress line on the terminal's stderr, redrawn at most every 100 ms.</summary>
internal sealed class ProgressLine(TextWriter error, string file, long? size) : IProgress<long>
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDraw = -1;
    private bool _drawn;

    public void Report(long value)
    {
        var now = _clock.ElapsedMilliseconds;
        if (_lastDraw >= 0 && now - _lastDraw < 100)
        {
            return;
        }

        _lastDraw = now;
        _drawn = true;
        var rate = value / 1e6 / Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
        var done = size is > 0 ? string.Create(CultureInfo.InvariantCulture, $"{100.0 * value / size.Value:F0}% of {size.Value / 1e6:F1} MB") : string.Create(CultureInfo.InvariantCulture, $"{value / 1e6:F1} MB");
        error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{file}: {done}, {rate:F0} MB/s   "));
    }

    public void Clear()
    {
        if (_drawn)
        {
            error.Write("\r" + new string(' ', Math.Min(Console.BufferWidth > 0 ? Console.BufferWidth - 1 : 79, 120)) + "\r");
        }
    }
}
