using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace TokenMetrics.AspNetCore.Api;

/// <summary>Writes API responses: JSON that is never cached nor sniffed, and errors as <c>{ "error": "..." }</c>.</summary>
internal static class ApiHttp
{
    public const string NoStoreMessage = "No ITokenUsageStore is registered: add a store, for example services.AddTokenMetrics().AddSqliteStore().";

    public static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
    }

    public static Task WriteJsonAsync<T>(HttpContext context, T value, JsonTypeInfo<T> typeInfo, int status = StatusCodes.Status200OK)
    {
        var response = context.Response;
        response.StatusCode = status;
        NoStore(response);
        response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(response.Body, value, typeInfo, context.RequestAborted);
    }

    public static Task WriteErrorAsync(HttpContext context, int status, string error, IReadOnlyList<string>? errors = null) =>
        WriteJsonAsync(context, new ErrorDto { Error = error, Errors = errors }, ApiJsonContext.Default.ErrorDto, status);

    /// <summary>The store, or <see langword="null"/> after answering 503.</summary>
    public static async Task<ITokenUsageStore?> StoreOrFailAsync(HttpContext context)
    {
        if (context.RequestServices.GetService<ITokenUsageStore>() is { } store)
        {
            return store;
        }

        await WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, NoStoreMessage).ConfigureAwait(false);
        return null;
    }
}
