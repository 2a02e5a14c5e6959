using Windhover.Server.Hosting;

namespace Windhover.Server.Tests;

/// <summary>The web UI's session cookies: credentials, signature, expiry on the injected clock, credential changes.</summary>
public sealed class UiSessionsTests
{
    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly ServerOptions Basic = new() { BasicAuthUser = "admin", BasicAuthPassword = "pw" };

    [Fact]
    public void Credentials_basic_or_token()
    {
        var sessions = new UiSessions(Basic with { ApiToken = "tok" }, TimeProvider.System);
        Assert.True(sessions.CheckCredentials("admin", "pw"));
        Assert.False(sessions.CheckCredentials("admin", "pw2"));
        Assert.False(sessions.CheckCredentials("root", "pw"));
        Assert.True(sessions.CheckCredentials("", "tok"));
        Assert.False(new UiSessions(Basic, TimeProvider.System).CheckCredentials("", ""));
    }

    [Fact]
    public void Cookie_is_signed_expires_and_dies_with_the_credentials()
    {
        var clock = new Clock(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));
        var sessions = new UiSessions(Basic, clock);
        var cookie = sessions.Issue("admin");
        Assert.Equal("admin", sessions.User(cookie));

        // Another user name with the same signature is rejected; so is garbage.
        var parts = cookie.Split('.');
        Assert.Null(sessions.User($"{parts[0]}.{Convert.ToBase64String("root"u8.ToArray()).TrimEnd('=')}.{parts[2]}"));
        Assert.Null(sessions.User($"{long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) + 3600}.{parts[1]}.{parts[2]}"));
        Assert.Null(sessions.User("x.y.z"));
        Assert.Null(sessions.User(null));

        // Valid until its lifetime ends.
        clock.Now += UiSessions.Lifetime - TimeSpan.FromSeconds(1);
        Assert.Equal("admin", sessions.User(cookie));
        clock.Now += TimeSpan.FromSeconds(1);
        Assert.Null(sessions.User(cookie));

        // A new password invalidates sessions issued under the old one.
        clock.Now -= TimeSpan.FromHours(1);
        Assert.Equal("admin", sessions.User(cookie));
        Assert.Null(new UiSessions(Basic with { BasicAuthPassword = "new" }, clock).User(cookie));
    }
}
