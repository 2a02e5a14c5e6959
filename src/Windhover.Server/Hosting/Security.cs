using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Windhover.Ui;

namespace Windhover.Server.Hosting;

/// <summary>
/// Basic auth or a bearer API token for the API once configured. The webhook route and <c>/health</c> stay open
/// (webhooks are authenticated by their key). The web UI also signs in through its page (<c>/ui/login</c>), which sets a
/// signed session cookie (<see cref="UiSessions"/>): accepted for <c>/ui</c> (forms carry antiforgery tokens) and for
/// GET/HEAD elsewhere (file downloads), never for other API writes. A browser page without credentials is redirected to
/// the sign-in page; anything else gets 401 with a basic-auth challenge, as before.
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
        var sessions = app.ApplicationServices.GetRequiredService<UiSessions>();

        return app.Use(async (context, next) =>
        {
            var request = context.Request;
            var path = request.Path;
            if (IsOpen(path) || HttpMethods.IsOptions(request.Method) || Authorized(request.Headers.Authorization.ToString(), expectedBasic, expectedToken) ||
                (SessionAccepted(request) && sessions.IsValid(request.Cookies[UiSessions.CookieName])))
            {
                await next(context);
                return;
            }

            if (IsBrowserPage(request))
            {
                var back = path + request.QueryString;
                context.Response.Redirect("/ui/login" + (back is "/" or "/ui" ? "" : "?back=" + Uri.EscapeDataString(back)));
                return;
            }

            context.Response.Headers.WWWAuthenticate = "Basic realm=\"windhover\"";
            await ErrorHandling.WriteAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized");
        });
    }

    public static bool IsOpen(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/api/v1/executions/webhook") ||
        path.Equals("/ui/login", StringComparison.Ordinal) || path.StartsWithSegments("/ui/theme");

    private static bool SessionAccepted(HttpRequest request) =>
        request.Path.StartsWithSegments("/ui") || request.Path == "/" || HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);

    private static bool IsBrowserPage(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && !request.Path.StartsWithSegments("/api") &&
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

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

/// <summary>
/// Sign-in for the web UI: checks the configured basic-auth user and password (or the API token as the password) and
/// issues a session cookie <c>expiry.user.signature</c>, HMAC-SHA256 under a key derived from the configured credentials
/// (sessions survive a restart and end when the credentials change). Times from the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class UiSessions(ServerOptions options, TimeProvider time)
{
    public const string CookieName = "windhover-session";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private readonly byte[] _key = SHA256.HashData(Encoding.UTF8.GetBytes($"windhover-session\n{options.BasicAuthUser}\n{options.BasicAuthPassword}\n{options.ApiToken}"));

    public bool Enabled => options.AuthConfigured;

    public bool CheckCredentials(string? user, string? password)
    {
        var given = Encoding.UTF8.GetBytes((user ?? "") + "\n" + (password ?? ""));
        var basic = options.BasicAuthUser is { Length: > 0 } u && options.BasicAuthPassword is { } p &&
            CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(u + "\n" + p));
        var token = options.ApiToken is { Length: > 0 } t &&
            CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(password ?? ""), Encoding.UTF8.GetBytes(t));
        return basic | token;
    }

    public string Issue(string user)
    {
        var payload = $"{time.GetUtcNow().Add(Lifetime).ToUnixTimeSeconds()}.{Base64Url(Encoding.UTF8.GetBytes(user))}";
        return payload + "." + Base64Url(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(payload)));
    }

    public bool IsValid(string? cookie) => User(cookie) is not null;

    /// <summary>The signed-in user of a valid, unexpired session cookie; null otherwise.</summary>
    public string? User(string? cookie)
    {
        if (cookie is null || cookie.Split('.') is not [var expiry, var user, var signature] ||
            !long.TryParse(expiry, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
        {
            return null;
        }

        var expected = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(expiry + "." + user));
        byte[] given;
        try
        {
            given = FromBase64Url(signature);
        }
        catch (FormatException)
        {
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(given, expected) || DateTimeOffset.FromUnixTimeSeconds(seconds) <= time.GetUtcNow())
        {
            return null;
        }

        try
        {
            return Encoding.UTF8.GetString(FromBase64Url(user));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s + new string('=', (4 - (s.Length % 4)) % 4));
    }
}
