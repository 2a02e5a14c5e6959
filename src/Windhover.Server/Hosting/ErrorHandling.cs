using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Windhover.Server.Api;
using Windhover.Server.Backend;
using Windhover.Server.Json;

namespace Windhover.Server.Hosting;

/// <summary>Maps exceptions to Kestra's error statuses with a JSON <c>{"message": ...}</c> body.</summary>
internal static class ErrorHandling
{
    public static IApplicationBuilder UseApiErrors(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && Map(e) is { } mapped)
        {
            if (mapped.Status >= 500)
            {
                context.RequestServices.GetService(typeof(ILoggerFactory)).As<ILoggerFactory>()?.CreateLogger("Windhover.Server")
                    .LogError(e, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
            }

            context.Response.Clear();
            if (mapped.Status == StatusCodes.Status503ServiceUnavailable)
            {
                context.Response.Headers.RetryAfter = "1";
            }

            await WriteAsync(context, mapped.Status, mapped.Message);
        }
    });

    public static (int Status, string Message)? Map(Exception e) => e switch
    {
        NotFoundException => (StatusCodes.Status404NotFound, e.Message),
        ConflictException => (StatusCodes.Status409Conflict, e.Message),
        InvalidFlowException => (StatusCodes.Status422UnprocessableEntity, e.Message),
        UnprocessableException => (StatusCodes.Status422UnprocessableEntity, e.Message),
        InputValidationException => (StatusCodes.Status422UnprocessableEntity, e.Message.StartsWith("Invalid entity", StringComparison.Ordinal) ? e.Message : "Invalid entity: " + e.Message),
        BadRequestException => (StatusCodes.Status400BadRequest, e.Message),
        BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge => (413, "Request body too large"),
        BadHttpRequestException bad => (bad.StatusCode, "Bad request: " + bad.Message),
        JsonException => (StatusCodes.Status400BadRequest, "Invalid JSON: " + e.Message),
        InvalidDataException => (StatusCodes.Status400BadRequest, e.Message),
        OperationCanceledException => null,
        // The database refused for now (too many connections, restarting, a serialisation failure): the client may retry.
        System.Data.Common.DbException { IsTransient: true } => (StatusCodes.Status503ServiceUnavailable, "Database temporarily unavailable, retry: " + e.Message),
        _ => (StatusCodes.Status500InternalServerError, "Internal server error: " + e.Message),
    };

    public static Task WriteAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(ApiJson.Error(message));
    }

    private static T? As<T>(this object? value) where T : class => value as T;
}
