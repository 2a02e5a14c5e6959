using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Windhover.Browser.Tests;

/// <summary>With basic auth configured, the UI signs in through its own page (a session cookie), not the browser's prompt.</summary>
public sealed class SignInTests
{
    [ChromiumFact]
    public async Task Sign_in_page_session_cookie_and_sign_out()
    {
        await using var h = await BrowserHarness.StartAsync(o => o with { BasicAuthUser = "admin", BasicAuthPassword = "s3cret pass" });
        var page = h.Page;

        // Any UI page sends a browser without credentials to the sign-in page, remembering where it was going.
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new Regex("/ui/login$"));
        await page.GotoAsync("/ui/executions?state=FAILED");
        await Expect(page).ToHaveURLAsync(new Regex(@"/ui/login\?back=%2Fui%2Fexecutions%3Fstate%3DFAILED$"));
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })).ToHaveCountAsync(0);
        await h.ScreenshotAsync("20-sign-in");

        // The API still answers 401 with a basic challenge to clients without credentials.
        var anonymous = await page.APIRequest.GetAsync("/api/v1/flows/search");
        Assert.Equal(401, anonymous.Status);
        Assert.Contains("Basic", anonymous.Headers["www-authenticate"], StringComparison.Ordinal);

        // A wrong password is refused on the page.
        await page.Locator("#user").FillAsync("admin");
        await page.Locator("#password").FillAsync("nope");
        await page.Locator("#sign-in").ClickAsync();
        await Expect(page.Locator("#signin-error")).ToContainTextAsync("Wrong user or password");
        Assert.DoesNotContain(await h.Context.CookiesAsync(), c => c.Name == "windhover-session");

        // The right one signs in and goes back to the page asked for.
        await page.Locator("#user").FillAsync("admin");
        await page.Locator("#password").FillAsync("s3cret pass");
        await page.Locator("#sign-in").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/ui/executions\?state=FAILED$"));
        await Expect(page.Locator("#signed-in-user")).ToHaveTextAsync("admin");
        var session = Assert.Single(await h.Context.CookiesAsync(), c => c.Name == "windhover-session");
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, session.SameSite);

        // The session works for UI forms and for GETs on the API (file downloads), not for API writes.
        Assert.Equal(200, (await page.APIRequest.GetAsync("/api/v1/flows/search")).Status);
        var write = await page.APIRequest.PostAsync("/api/v1/flows", new() { Headers = new Dictionary<string, string> { ["Content-Type"] = "application/x-yaml" }, DataString = "id: x\nnamespace: a\ntasks: []" });
        Assert.Equal(401, write.Status);
        var basic = await page.APIRequest.PostAsync("/api/v1/flows", new()
        {
            Headers = new Dictionary<string, string> { ["Content-Type"] = "application/x-yaml", ["Authorization"] = "Basic " + Convert.ToBase64String("admin:s3cret pass"u8.ToArray()) },
            DataString = "id: signed\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi",
        });
        Assert.Equal(200, basic.Status);
        await page.GotoAsync("/ui/flows/company.team/signed");
        await page.Locator("#save").ClickAsync();
        await Expect(page.Locator("#saved")).ToBeVisibleAsync();

        // A tampered cookie is worthless.
        var forged = session.Value[..^2] + (session.Value.EndsWith("AA", StringComparison.Ordinal) ? "BB" : "AA");
        var other = await h.Context.Browser!.NewContextAsync(new() { BaseURL = h.Address });
        await other.AddCookiesAsync([new Cookie { Name = "windhover-session", Value = forged, Url = h.Address }]);
        var otherPage = await other.NewPageAsync();
        await otherPage.GotoAsync("/ui/flows");
        await Expect(otherPage).ToHaveURLAsync(new Regex("/ui/login"));
        await other.CloseAsync();

        // Sign out: back to the sign-in page, and the UI is closed again.
        await page.Locator("#sign-out").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/ui/login$"));
        await page.GotoAsync("/ui/flows");
        await Expect(page).ToHaveURLAsync(new Regex("/ui/login"));
        // An off-site "back" is not followed.
        await page.GotoAsync("/ui/login?back=https://example.com/");
        await page.Locator("#user").FillAsync("admin");
        await page.Locator("#password").FillAsync("s3cret pass");
        await page.Locator("#sign-in").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/ui$"));
    }
}
