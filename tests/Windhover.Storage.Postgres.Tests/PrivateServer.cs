using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Windhover.Storage.Postgres.Tests;

/// <summary>
/// A throw-away PostgreSQL server of this test alone (initdb with the binaries .ci/services found, WINDHOVER_PG_BIN),
/// for tests that stop or restart the server. Run as user postgres when root, as .ci/services does.
/// </summary>
internal sealed class PrivateServer : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _dir;

    private PrivateServer(string bin, string dir, int port)
    {
        _bin = bin;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true";

    public static async Task<PrivateServer> StartAsync()
    {
        var bin = Environment.GetEnvironmentVariable("WINDHOVER_PG_BIN");
        Assert.True(!string.IsNullOrEmpty(bin), "WINDHOVER_PG_BIN (exported by .ci/services) names the PostgreSQL binaries");
        var dir = Path.Combine(Path.GetTempPath(), "windhover-pg-private-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        if (Environment.UserName == "root")
        {
            await RunAsync("chown", ["postgres:postgres", dir]);
        }

        var server = new PrivateServer(bin!, dir, FreePort());
        await server.ShellAsync($"{bin}/initdb -D '{dir}/data' -U postgres -A trust -E UTF8 >/dev/null");
        await server.PgCtlAsync($"-w -o \"-p {server.Port} -k '{dir}' -c listen_addresses=127.0.0.1 -c max_connections=200\" start");
        return server;
    }

    public Task PgCtlAsync(string arguments) => ShellAsync($"{_bin}/pg_ctl -D '{_dir}/data' -l '{_dir}/log' {arguments}");

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private Task ShellAsync(string command) =>
        Environment.UserName == "root" ? RunAsync("su", ["postgres", "-s", "/bin/sh", "-c", command]) : RunAsync("sh", ["-c", command]);

    private static async Task RunAsync(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)}: {await stdout}{await stderr}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await PgCtlAsync("-m immediate stop");
        }
        catch (Xunit.Sdk.XunitException)
        {
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
