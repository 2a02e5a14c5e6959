using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Windhover.Ui.Components;

namespace Windhover.Ui;

/// <summary>Registers and maps the web UI (Blazor static server rendering) under <c>/ui</c>.</summary>
public static class UiEndpoints
{
    public const string ThemeCookie = "windhover-theme";

    /// <summary>The live validation endpoint reads at most this many characters (a flow is far smaller).</summary>
    private const int MaxValidatedSource = 1024 * 1024;

    public static IServiceCollection AddWindhoverUi(this IServiceCollection services)
    {
        services.AddRazorComponents();
        return services;
    }

    /// <summary>Maps <c>/ui/...</c> pages, the theme switch and the live validation endpoint; <c>/</c> redirects to <c>/ui</c>.</summary>
    public static IEndpointRouteBuilder MapWindhoverUi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/", () => Results.Redirect("/ui")).ExcludeFromDescription();
        routes.MapGet("/ui/theme/{theme}", (string theme, string? back, HttpContext context) =>
        {
            var value = theme == "dark" ? "dark" : "light";
            context.Response.Cookies.Append(ThemeCookie, value, new CookieOptions { Path = "/", HttpOnly = true, SameSite = SameSiteMode.Lax, MaxAge = TimeSpan.FromDays(365) });
            return Results.LocalRedirect(back is { Length: > 0 } && back.StartsWith("/ui", StringComparison.Ordinal) ? back : "/ui");
        }).ExcludeFromDescription();
        routes.MapPost("/ui/logout", (HttpContext context, IUiBackend backend) =>
        {
            // No antiforgery token: the session cookie is SameSite=Strict, so a cross-site post arrives signed out anyway.
            backend.SignOut(context);
            return Results.LocalRedirect("/ui/login");
        }).DisableAntiforgery().ExcludeFromDescription();
        routes.MapPost("/ui/validate", async (HttpContext context, Windhover.Flows.Yaml.FlowParser parser) =>
        {
            if (context.Request.ContentLength > MaxValidatedSource)
            {
                return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
            }

            using var reader = new StreamReader(context.Request.Body);
            var buffer = new char[MaxValidatedSource + 1];
            var length = await reader.ReadBlockAsync(buffer.AsMemory(), context.RequestAborted);
            if (length > MaxValidatedSource)
            {
                return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
            }

            var source = new string(buffer, 0, length);
            var result = parser.Parse(source);
            var problems = result.Problems.Select(p => new ValidationProblem(p.Position.Line, p.Position.Column, p.Message)).ToArray();
            return Results.Json(problems, UiJsonContext.Default.ValidationProblemArray);
        }).DisableAntiforgery().ExcludeFromDescription();
        routes.MapRazorComponents<App>();
        return routes;
    }
}

public sealed record ValidationProblem(int Line, int Column, string Message);

[System.Text.Json.Serialization.JsonSerializable(typeof(ValidationProblem[]))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class UiJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
