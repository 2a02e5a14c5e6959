using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Windhover.Server.Hosting;

/// <summary>
/// Basic auth or a bearer API token for the API once configured. The webhook route and <c>/health</c> stay open
/// (webhooks are authenticated by their key).
/// </summary>
internal static class Security
{
    public static IApplicationBuilder UseWindhoverAuth(this IApplicationBuilder app, ServerOptions options)
    {
        if (!options.AuthConfigured)
        {
            return app;
        }

        var expectedBasic = options.BasicAuthUser is { Length: > 0 } user && options.BasicAuthPassword is { } password
            ? Encoding.UTF8.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)))
            : null;
        var expectedToken = options.ApiToken is { Length: > 0 } token ? Encoding.UTF8.GetBytes(token) : null;

        return app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (IsOpen(path) || HttpMethods.IsOptions(context.Request.Method) || Authorized(context.Request.Headers.Authorization.ToString(), expectedBasic, expectedToken))
            {
                await next(context);
                return;
            }

            context.Response.Headers.WWWAuthenticate = "Basic realm=\"windhover\"";
            await ErrorHandling.WriteAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized");
        });
    }

    public static bool IsOpen(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/api/v1/executions/webhook");

    private static bool Authorized(string header, byte[]? basic, byte[]? token)
    {
        if (basic is not null && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) &&
            CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[6..].Trim()), basic))
        {
            return true;
        }

        return token is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) &&
            CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[7..].Trim()), token);
    }
}
