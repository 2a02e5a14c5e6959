using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Windhover.Plugins.Jdbc;

/// <summary>Turns Kestra's JDBC URLs into ADO.NET connection strings.</summary>
public static class JdbcUrl
{
    /// <summary>
    /// <c>jdbc:postgresql://host[:port][,host2[:port]]/database?user=..&amp;password=..&amp;sslmode=..&amp;currentSchema=..</c>
    /// (also <c>jdbc:postgresql:database</c> and <c>jdbc:postgresql:/</c> for localhost). <paramref name="username"/> and
    /// <paramref name="password"/> win over the URL's.
    /// </summary>
    public static NpgsqlConnectionStringBuilder PostgreSql(string url, string? username, string? password)
    {
        const string prefix = "jdbc:postgresql:";
        if (!url.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"Invalid PostgreSQL JDBC URL '{Redact(url)}': it must start with '{prefix}'");
        }

        var rest = url[prefix.Length..];
        var query = "";
        var q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = "localhost", Port = 5432 };
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            rest = rest[2..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var hosts = slash < 0 ? rest : rest[..slash];
            var database = slash < 0 ? "" : rest[(slash + 1)..];
            if (hosts.Length > 0)
            {
                // Npgsql takes "h1:p1,h2:p2" in Host; a single host:port is split so that Port is set too
                var parts = hosts.Split(',');
                if (parts.Length == 1 && SplitHostPort(parts[0]) is var (host, port))
                {
                    builder.Host = host;
                    if (port is { } p)
                    {
                        builder.Port = p;
                    }
                }
                else
                {
                    builder.Host = hosts;
                }
            }

            if (database.Length > 0)
            {
                builder.Database = Uri.UnescapeDataString(database);
            }
        }
        else if (rest.Length > 0 && rest != "/")
        {
            builder.Database = Uri.UnescapeDataString(rest.TrimStart('/'));
        }

        foreach (var (key, value) in Query(query))
        {
            switch (key.ToLowerInvariant())
            {
                case "user":
                    builder.Username = value;
                    break;
                case "password":
                    builder.Password = value;
                    break;
                case "sslmode":
                    builder.SslMode = value.ToLowerInvariant() switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw new FormatException($"Unknown sslmode '{value}'"),
                    };
                    break;
                case "currentschema":
                    builder.SearchPath = value;
                    break;
                case "applicationname":
                    builder.ApplicationName = value;
                    break;
                case "connecttimeout":
                    builder.Timeout = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "sockettimeout":
                    builder.CommandTimeout = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "options":
                    builder.Options = value;
                    break;
                case "targetservertype":
                    builder.TargetSessionAttributes = value switch
                    {
                        "primary" or "master" => "primary",
                        "secondary" or "slave" => "standby",
                        "preferSecondary" or "preferSlave" => "prefer-standby",
                        _ => "any",
                    };
                    break;
                default:
                    break; // other pgJDBC options have no Npgsql equivalent worth mapping
            }
        }

        if (!string.IsNullOrEmpty(username))
        {
            builder.Username = username;
        }

        if (!string.IsNullOrEmpty(password))
        {
            builder.Password = password;
        }

        return builder;
    }

    /// <summary>
    /// <c>jdbc:sqlite:/abs/path.db</c>, <c>jdbc:sqlite:relative.db</c> (against <paramref name="workingDirectory"/>),
    /// <c>jdbc:sqlite::memory:</c> or <c>jdbc:sqlite:</c> (in memory); URL query options are ignored.
    /// </summary>
    public static SqliteConnectionStringBuilder Sqlite(string url, string workingDirectory)
    {
        const string prefix = "jdbc:sqlite:";
        if (!url.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"Invalid SQLite JDBC URL '{url}': it must start with '{prefix}'");
        }

        var path = SqlitePath(url);
        return path is null
            ? new SqliteConnectionStringBuilder { DataSource = ":memory:" }
            : new SqliteConnectionStringBuilder { DataSource = Path.IsPathRooted(path) ? path : Path.Combine(workingDirectory, path) };
    }

    /// <summary>The file path of a SQLite JDBC URL (null for in-memory).</summary>
    public static string? SqlitePath(string url)
    {
        var rest = url["jdbc:sqlite:".Length..];
        var q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            rest = rest[..q];
        }

        if (rest.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            rest = rest[5..];
        }

        return rest is "" or ":memory:" ? null : rest;
    }

    private static (string Host, int? Port)? SplitHostPort(string hostPort)
    {
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']', StringComparison.Ordinal);
            var host = hostPort[1..close];
            return close + 1 < hostPort.Length && hostPort[close + 1] == ':'
                ? (host, int.Parse(hostPort[(close + 2)..], CultureInfo.InvariantCulture))
                : (host, null);
        }

        var colon = hostPort.LastIndexOf(':');
        return colon < 0 ? (hostPort, null) : (hostPort[..colon], int.Parse(hostPort[(colon + 1)..], CultureInfo.InvariantCulture));
    }

    private static IEnumerable<(string Key, string Value)> Query(string query)
    {
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            yield return eq < 0
                ? (Uri.UnescapeDataString(pair), "")
                : (Uri.UnescapeDataString(pair[..eq]), Uri.UnescapeDataString(pair[(eq + 1)..]));
        }
    }

    /// <summary>The URL with any password query value replaced by ******.</summary>
    public static string Redact(string url) =>
        System.Text.RegularExpressions.Regex.Replace(url, "(?i)(password=)[^&]*", "$1******");
}
