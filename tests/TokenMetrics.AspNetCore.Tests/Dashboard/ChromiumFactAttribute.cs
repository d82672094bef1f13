namespace TokenMetrics.AspNetCore.Tests.Dashboard;

/// <summary>A test that drives Debian's chromium through Playwright; skipped, with the reason, only when that browser is
/// not installed (scripts/test.sh installs it through scripts/services.d/chromium.sh, so in CI it runs).</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    /// <summary>The system browser Playwright launches (never a downloaded one).</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(ChromiumPath))
        {
            Skip = $"{ChromiumPath} is missing: install Debian's chromium (apt-get install -y chromium, or run scripts/test.sh) to run the browser tests.";
        }
    }
}
