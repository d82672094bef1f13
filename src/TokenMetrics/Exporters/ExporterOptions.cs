using System.Collections.Generic;
using System.Net;
using Microsoft.Extensions.Options;

namespace TokenMetrics.Internal;

/// <summary>Start-up checks shared by the exporters' options.</summary>
internal static class ExporterOptions
{
    public static void ThrowIfInvalid(string optionsName, List<string> errors)
    {
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(optionsName, typeof(ExporterOptions), errors);
        }
    }

    /// <summary>HTTPS, or plain HTTP to a loopback address only; never user info in the URL (it would end up in logs).</summary>
    public static void ValidateEndpoint(string property, Uri? endpoint, List<string> errors)
    {
        if (endpoint is null)
        {
            errors.Add($"{property} is required.");
            return;
        }

        if (!endpoint.IsAbsoluteUri)
        {
            errors.Add($"{property} must be an absolute URI.");
            return;
        }

        if (!string.IsNullOrEmpty(endpoint.UserInfo))
        {
            errors.Add($"{property} must not contain credentials; use the credential options.");
        }

        if (endpoint.Scheme == Uri.UriSchemeHttps)
        {
            return;
        }

        if (endpoint.Scheme == Uri.UriSchemeHttp && IsLoopback(endpoint))
        {
            return;
        }

        errors.Add($"{property} must use https (plain http is allowed only to a loopback address); got scheme '{endpoint.Scheme}' for host '{endpoint.Host}'.");
    }

    public static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && IPAddress.IsLoopback(address));
}

/// <summary>Reports every error of an exporter's options (not just "invalid") when they are validated at start-up.</summary>
internal sealed class ExporterOptionsValidator<TOptions>(string? name, Func<TOptions, List<string>> validate) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? optionsName, TOptions options)
    {
        if (name is not null && !string.Equals(name, optionsName, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = validate(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
