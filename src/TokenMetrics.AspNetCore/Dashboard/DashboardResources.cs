using System.Collections.Frozen;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;

namespace TokenMetrics.AspNetCore.Dashboard;

/// <summary>The dashboard's pages and assets, embedded in the package (no CDN: the dashboard works offline).</summary>
internal static class DashboardResources
{
    private const string AssetPrefix = "TokenMetrics.Dashboard.Assets.";
    private const string PagePrefix = "TokenMetrics.Dashboard.Pages.";

    private static readonly FrozenDictionary<string, DashboardAsset> Assets = LoadAssets();
    private static readonly FrozenDictionary<string, Template> Pages = LoadPages();

    /// <summary>Finds an asset by its file name, or returns null.</summary>
    public static DashboardAsset? FindAsset(string name) => Assets.GetValueOrDefault(name);

    /// <summary>Renders a page inside the layout. Every value is HTML-encoded; <c>{{asset:name}}</c> becomes the asset's
    /// URL with its content hash, so a new package version never meets a stale cached file.</summary>
    public static string RenderPage(string page, IReadOnlyDictionary<string, string> values, HtmlEncoder encoder, Func<string, string> assetUrl)
    {
        var content = new StringBuilder();
        Pages[page].Render(content, values, encoder, assetUrl, null);
        var html = new StringBuilder(content.Length + 4096);
        Pages["layout"].Render(html, values, encoder, assetUrl, content.ToString());
        return html.ToString();
    }

    private static FrozenDictionary<string, DashboardAsset> LoadAssets()
    {
        var assembly = typeof(DashboardResources).Assembly;
        var assets = new Dictionary<string, DashboardAsset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (resource.StartsWith(AssetPrefix, StringComparison.Ordinal))
            {
                var name = resource[AssetPrefix.Length..];
                var bytes = Read(assembly, resource);
                var hash = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
                assets[name] = new DashboardAsset(name, bytes, ContentType(name), hash);
            }
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static FrozenDictionary<string, Template> LoadPages()
    {
        var assembly = typeof(DashboardResources).Assembly;
        var pages = new Dictionary<string, Template>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (resource.StartsWith(PagePrefix, StringComparison.Ordinal) && resource.EndsWith(".html", StringComparison.Ordinal))
            {
                var name = resource[PagePrefix.Length..^".html".Length];
                pages[name] = Template.Parse(Encoding.UTF8.GetString(Read(assembly, resource)));
            }
        }

        return pages.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static byte[] Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };

    /// <summary>A page template: literal HTML and <c>{{name}}</c> placeholders, parsed once.</summary>
    private sealed class Template
    {
        private readonly List<(string Text, bool IsPlaceholder)> _parts = [];

        public static Template Parse(string text)
        {
            var template = new Template();
            var position = 0;
            while (position < text.Length)
            {
                var open = text.IndexOf("{{", position, StringComparison.Ordinal);
                if (open < 0)
                {
                    break;
                }

                var close = text.IndexOf("}}", open, StringComparison.Ordinal);
                if (close < 0)
                {
                    throw new InvalidOperationException("Unclosed placeholder in a dashboard page.");
                }

                template._parts.Add((text[position..open], false));
                template._parts.Add((text[(open + 2)..close].Trim(), true));
                position = close + 2;
            }

            template._parts.Add((text[position..], false));
            return template;
        }

        public void Render(StringBuilder output, IReadOnlyDictionary<string, string> values, HtmlEncoder encoder, Func<string, string> assetUrl, string? content)
        {
            foreach (var (text, isPlaceholder) in _parts)
            {
                if (!isPlaceholder)
                {
                    output.Append(text);
                }
                else if (text == "content")
                {
                    // The page body: a template of this package rendered just before, already encoded.
                    output.Append(content);
                }
                else if (text.StartsWith("asset:", StringComparison.Ordinal))
                {
                    var name = text["asset:".Length..];
                    var asset = FindAsset(name) ?? throw new InvalidOperationException($"The dashboard asset '{name}' is not embedded.");
                    output.Append(encoder.Encode(assetUrl(name) + "?v=" + asset.Hash));
                }
                else
                {
                    output.Append(encoder.Encode(values[text]));
                }
            }
        }
    }
}

/// <summary>An embedded static file of the dashboard.</summary>
/// <param name="Name">The file name.</param>
/// <param name="Content">The bytes.</param>
/// <param name="ContentType">The media type.</param>
/// <param name="Hash">The first 16 hex digits of the SHA-256 of the bytes: the version in asset URLs and the ETag.</param>
internal sealed record DashboardAsset(string Name, byte[] Content, string ContentType, string Hash);
