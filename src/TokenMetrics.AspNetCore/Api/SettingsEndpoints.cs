using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace TokenMetrics.AspNetCore.Api;

/// <summary><c>GET/PATCH api/settings</c>, <c>POST api/settings/reset</c> and <c>GET api/antiforgery</c>: the runtime settings of
/// <see cref="TokenMetricsSettingsService"/>. Changes need <see cref="TokenMetricsPolicies.Admin"/> and CSRF protection; the
/// service's log line (caller and reason) is the audit entry.</summary>
internal static class SettingsEndpoints
{
    private const int MaxBodyBytes = 64 * 1024;
    private const string NoSettingsMessage = "TokenMetrics is not registered: call services.AddTokenMetrics().";

    public static void Map(RouteGroupBuilder api)
    {
        _ = api.MapGet("/settings", (RequestDelegate)GetAsync).WithDisplayName("TokenMetrics API settings");
        _ = api.MapPatch("/settings", (RequestDelegate)PatchAsync).RequireAuthorization(TokenMetricsPolicies.Admin).WithDisplayName("TokenMetrics API settings change");
        _ = api.MapPost("/settings/reset", (RequestDelegate)ResetAsync).RequireAuthorization(TokenMetricsPolicies.Admin).WithDisplayName("TokenMetrics API settings reset");
        _ = api.MapGet("/antiforgery", (RequestDelegate)AntiforgeryAsync).WithDisplayName("TokenMetrics API antiforgery token");
    }

    private static Task GetAsync(HttpContext context) =>
        context.RequestServices.GetService<TokenMetricsSettingsService>() is { } service
            ? WriteStateAsync(context, service)
            : ApiHttp.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, NoSettingsMessage);

    private static async Task PatchAsync(HttpContext context)
    {
        if (!await Csrf.ValidateAsync(context).ConfigureAwait(false))
        {
            return;
        }

        if (context.RequestServices.GetService<TokenMetricsSettingsService>() is not { } service)
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, NoSettingsMessage).ConfigureAwait(false);
            return;
        }

        SettingsPatchDto? patch;
        try
        {
            patch = await ReadBodyAsync(context).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "The body is not a valid settings change: " + ex.Message).ConfigureAwait(false);
            return;
        }
        catch (InvalidDataException ex)
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, ex.Message).ConfigureAwait(false);
            return;
        }

        if (patch is null)
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "The body must be a JSON object such as {\"samplingRatio\":0.5,\"reason\":\"...\"}.").ConfigureAwait(false);
            return;
        }

        var result = service.Update(
            s => s with
            {
                Enabled = patch.Enabled ?? s.Enabled,
                EstimateMissingUsage = patch.EstimateMissingUsage ?? s.EstimateMissingUsage,
                CaptureContent = patch.CaptureContent ?? s.CaptureContent,
                SamplingRatio = patch.SamplingRatio ?? s.SamplingRatio,
                DisabledExporters = patch.DisabledExporters is { } names ? names.ToHashSet(StringComparer.Ordinal) : s.DisabledExporters,
            },
            Reason(context, patch.Reason));
        if (!result.Succeeded)
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "The settings change was rejected; nothing changed: " + string.Join("; ", result.Errors), result.Errors).ConfigureAwait(false);
            return;
        }

        await WriteStateAsync(context, service).ConfigureAwait(false);
    }

    private static async Task ResetAsync(HttpContext context)
    {
        if (!await Csrf.ValidateAsync(context).ConfigureAwait(false))
        {
            return;
        }

        if (context.RequestServices.GetService<TokenMetricsSettingsService>() is not { } service)
        {
            await ApiHttp.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, NoSettingsMessage).ConfigureAwait(false);
            return;
        }

        _ = service.Reset(Reason(context, context.Request.Query["reason"].ToString()));
        await WriteStateAsync(context, service).ConfigureAwait(false);
    }

    private static Task AntiforgeryAsync(HttpContext context)
    {
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        return ApiHttp.WriteJsonAsync(context, new AntiforgeryDto { HeaderName = TokenMetricsEndpointOptions.CsrfHeaderName, Token = tokens.RequestToken }, ApiJsonContext.Default.AntiforgeryDto);
    }

    private static Task WriteStateAsync(HttpContext context, TokenMetricsSettingsService service)
    {
        var dto = new SettingsStateDto
        {
            Version = service.Version,
            Current = ApiMapping.Settings(service.Current),
            Configured = ApiMapping.Settings(service.Configured),
            Exporters = service.ExporterNames,
        };
        context.Response.Headers.ETag = $"\"{dto.Version}\"";
        return ApiHttp.WriteJsonAsync(context, dto, ApiJsonContext.Default.SettingsStateDto);
    }

    /// <summary>The audit reason: who (the caller's name) and why; the settings service strips control characters and caps it.</summary>
    private static string Reason(HttpContext context, string? reason)
    {
        var who = context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : "anonymous";
        return $"{who} via TokenMetrics API: {(string.IsNullOrWhiteSpace(reason) ? "no reason given" : reason)}";
    }

    private static async Task<SettingsPatchDto?> ReadBodyAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            throw new InvalidDataException($"The body is larger than {MaxBodyBytes} bytes.");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw new InvalidDataException($"The body is larger than {MaxBodyBytes} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return null;
        }

        buffer.Position = 0;
        return await JsonSerializer.DeserializeAsync(buffer, ApiJsonContext.Default.SettingsPatchDto, context.RequestAborted).ConfigureAwait(false);
    }
}
