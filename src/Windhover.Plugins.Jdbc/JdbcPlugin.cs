using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using Windhover.Engine.Stores;
using Windhover.Engine.Tasks;
using Windhover.Engine.Tasks.Core;
using Windhover.Flows.Expressions;
using Windhover.Flows.TaskTypes;

namespace Windhover.Plugins.Jdbc;

/// <summary>Kestra's <c>fetchType</c>.</summary>
public enum FetchType
{
    None,
    FetchOne,
    Fetch,
    Store,
}

/// <summary>
/// Kestra's JDBC Query task types: <c>io.kestra.plugin.jdbc.postgresql.Query</c> (Npgsql) and
/// <c>io.kestra.plugin.jdbc.sqlite.Query</c> (Microsoft.Data.Sqlite).
/// </summary>
public static class JdbcPlugin
{
    public const string PostgreSqlQuery = "io.kestra.plugin.jdbc.postgresql.Query";
    public const string SqliteQuery = "io.kestra.plugin.jdbc.sqlite.Query";

    /// <summary>Adds the validation descriptors to <paramref name="types"/> and the implementations to <paramref name="tasks"/>.</summary>
    public static void Register(TaskTypeRegistry types, TaskRegistry tasks)
    {
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(tasks);
        foreach (var descriptor in Descriptors())
        {
            types.Register(descriptor);
        }

        tasks.Register(PostgreSqlQuery, new QueryTask(SqlDialect.PostgreSql));
        tasks.Register(SqliteQuery, new QueryTask(SqlDialect.Sqlite));
    }

    public static IEnumerable<TaskTypeDescriptor> Descriptors()
    {
        const PropertyKind Str = PropertyKind.String, Bool = PropertyKind.Boolean, Int = PropertyKind.Integer, Map = PropertyKind.Map, List = PropertyKind.List;
        PropertyDescriptor[] common =
        [
            new("url", Str, true),
            new("username", Str),
            new("password", Str),
            new("sql", Str, true),
            new("parameters", Map | List | Str),
            PropertyDescriptor.Enum("fetchType", false, "FETCH_ONE", "FETCH", "STORE", "NONE"),
            new("fetch", Bool),
            new("fetchOne", Bool),
            new("store", Bool),
            new("fetchSize", Int),
            new("timeZoneId", Str),
            new("autoCommit", Bool),
            new("afterSQL", Str),
        ];
        yield return new TaskTypeDescriptor
        {
            Name = PostgreSqlQuery,
            Kind = TaskKind.Runnable,
            Aliases = ["io.kestra.plugin.jdbc.postgresql.Queries"],
            Properties = [.. common, new("ssl", Bool), PropertyDescriptor.Enum("sslMode", false, "DISABLE", "ALLOW", "PREFER", "REQUIRE", "VERIFY_CA", "VERIFY_FULL"),
                new("sslRootCert", Str), new("sslCert", Str), new("sslKey", Str), new("sslKeyPassword", Str)],
        };
        yield return new TaskTypeDescriptor
        {
            Name = SqliteQuery,
            Kind = TaskKind.Runnable,
            Aliases = ["io.kestra.plugin.jdbc.sqlite.Queries"],
            Properties = [.. common, new("sqliteFile", Str), new("outputDbFile", Bool)],
        };
    }
}

/// <summary>One Query task type: connects, runs <c>sql</c> with <c>parameters</c>, and returns per <c>fetchType</c>.</summary>
internal sealed class QueryTask(SqlDialect dialect) : IRunnableTask
{
    public async Task<TaskOutcome> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var url = context.RenderRequired<string>("url");
        var username = context.Render<string>("username");
        var password = context.Render<string>("password");
        context.AddSecret(password);
        var sql = context.RenderRequired<string>("sql");
        var fetchType = ReadFetchType(context);
        var parameters = context.HasProperty("parameters") ? context.RenderValue(context.RawProperty("parameters")) : null;

        await using var connection = await OpenAsync(context, url, username, password, cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        BindParameters(command, sql, parameters);
        if (context.Render<int?>("fetchSize") is { } fetchSize && fetchSize > 0 && command is NpgsqlCommand)
        {
            // Npgsql streams rows anyway; nothing to set. Kept for Kestra compatibility.
            context.Logger.Trace(string.Create(CultureInfo.InvariantCulture, $"fetchSize {fetchSize} accepted (rows are streamed)"));
        }

        var outputs = new Dictionary<string, object?>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            // the result set of the last statement that returns rows
            var hasResult = false;
            do
            {
                if (reader.FieldCount > 0)
                {
                    hasResult = true;
                    if (!await HasLaterResultAsync(reader, fetchType, outputs, context, cancellationToken).ConfigureAwait(false))
                    {
                        break;
                    }
                }
            }
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));

            if (!hasResult && fetchType != FetchType.None)
            {
                outputs["size"] = 0L;
                if (fetchType == FetchType.FetchOne)
                {
                    outputs["row"] = null;
                }
                else if (fetchType == FetchType.Fetch)
                {
                    outputs["rows"] = new List<object?>();
                }
            }

            if (reader.RecordsAffected >= 0)
            {
                context.Logger.Debug(string.Create(CultureInfo.InvariantCulture, $"{reader.RecordsAffected} row(s) affected"));
            }
        }

        if (context.Render<string>("afterSQL") is { Length: > 0 } afterSql)
        {
            await using var after = connection.CreateCommand();
            BindParameters(after, afterSql, parameters);
            await after.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (outputs.TryGetValue("size", out var size))
        {
            context.Logger.Info($"Query fetched {size} row(s) ({FetchName(fetchType)})");
        }

        return TaskOutcome.Success(outputs);
    }

    /// <summary>Reads the current result set into <paramref name="outputs"/>; true to go on with later result sets.</summary>
    private static async Task<bool> HasLaterResultAsync(DbDataReader reader, FetchType fetchType, Dictionary<string, object?> outputs, RunContext context, CancellationToken cancellationToken)
    {
        switch (fetchType)
        {
            case FetchType.FetchOne:
            {
                var row = await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadRow(reader) : null;
                outputs["row"] = row;
                outputs["size"] = row is null ? 0L : 1L;
                return true;
            }

            case FetchType.Fetch:
            {
                var rows = new List<object?>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows.Add(ReadRow(reader));
                }

                outputs["rows"] = rows;
                outputs["size"] = (long)rows.Count;
                return true;
            }

            case FetchType.Store:
            {
                var file = Path.Combine(context.WorkingDirectory, $"query-{Guid.NewGuid():N}.ion");
                long count = 0;
                await using (var writer = new StreamWriter(file, append: false, new UTF8Encoding(false)))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        await writer.WriteAsync(ExpressionValues.ToJson(ReadRow(reader))).ConfigureAwait(false);
                        await writer.WriteAsync('\n').ConfigureAwait(false);
                        count++;
                    }
                }

                await using (var stream = File.OpenRead(file))
                {
                    outputs["uri"] = await context.PutFileAsync("result.ion", stream, cancellationToken).ConfigureAwait(false);
                }

                File.Delete(file);
                outputs["size"] = count;
                return true;
            }

            default:
                return true;
        }
    }

    private async Task<DbConnection> OpenAsync(RunContext context, string url, string? username, string? password, CancellationToken cancellationToken)
    {
        DbConnection connection;
        string where;
        switch (dialect)
        {
            case SqlDialect.PostgreSql:
            {
                NpgsqlConnectionStringBuilder builder;
                try
                {
                    builder = JdbcUrl.PostgreSql(url, username, password);
                }
                catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
                {
                    throw new TaskPropertyException($"Invalid property 'url': {e.Message}");
                }

                if (context.Render<string>("sslMode") is { } sslMode)
                {
                    builder.SslMode = Enum.Parse<Npgsql.SslMode>(sslMode.Replace("_", "", StringComparison.Ordinal), ignoreCase: true);
                }

                context.AddSecret(builder.Password);
                connection = new NpgsqlConnection(builder.ConnectionString);
                where = $"PostgreSQL at {builder.Host}:{builder.Port}/{builder.Database}";
                break;
            }

            default:
            {
                if (context.Render<string>("sqliteFile") is { Length: > 0 } sqliteFile)
                {
                    var target = JdbcUrl.SqlitePath(url) is { } p && !Path.IsPathRooted(p) ? Path.Combine(context.WorkingDirectory, p) : null;
                    if (target is null)
                    {
                        throw new TaskPropertyException("With 'sqliteFile', the url must name a relative file (e.g. jdbc:sqlite:my.db)");
                    }

                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    await using var source = await context.OpenFileAsync(sqliteFile, cancellationToken).ConfigureAwait(false);
                    await using var file = File.Create(target);
                    await source.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                }

                SqliteConnectionStringBuilder builder;
                try
                {
                    builder = JdbcUrl.Sqlite(url, context.WorkingDirectory);
                }
                catch (FormatException e)
                {
                    throw new TaskPropertyException($"Invalid property 'url': {e.Message}");
                }

                builder.Pooling = false; // the file may be deleted with the working directory right after the run
                connection = new SqliteConnection(builder.ConnectionString);
                where = $"SQLite database {builder.DataSource}";
                break;
            }
        }

        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new TaskFailedException($"Cannot connect to the {where}: {e.Message}");
        }

        context.Logger.Debug($"Connected to the {where}");
        return connection;
    }

    private void BindParameters(DbCommand command, string sql, object? parameters)
    {
        switch (parameters)
        {
            case null:
                command.CommandText = sql;
                return;
            case IReadOnlyDictionary<string, object?> named:
            {
                var rewritten = JdbcSql.Rewrite(sql, dialect, positional: false);
                command.CommandText = rewritten.Sql;
                foreach (var name in rewritten.Names)
                {
                    if (!named.TryGetValue(name, out var value))
                    {
                        throw new TaskPropertyException($"The SQL uses ':{name}' but 'parameters' has no '{name}'");
                    }

                    var p = command.CreateParameter();
                    p.ParameterName = "@" + name;
                    p.Value = ToDb(value);
                    command.Parameters.Add(p);
                }

                return;
            }

            case IReadOnlyList<object?> positional:
            {
                var rewritten = JdbcSql.Rewrite(sql, dialect, positional: true);
                if (rewritten.PositionalCount != positional.Count)
                {
                    throw new TaskPropertyException(string.Create(CultureInfo.InvariantCulture,
                        $"The SQL has {rewritten.PositionalCount} '?' placeholder(s) but 'parameters' has {positional.Count} value(s)"));
                }

                command.CommandText = rewritten.Sql;
                for (var i = 0; i < positional.Count; i++)
                {
                    var p = command.CreateParameter();
                    if (dialect == SqlDialect.Sqlite)
                    {
                        p.ParameterName = "@p" + (i + 1).ToString(CultureInfo.InvariantCulture);
                    }

                    p.Value = ToDb(positional[i]);
                    command.Parameters.Add(p);
                }

                return;
            }

            default:
                throw new TaskPropertyException("Property 'parameters' must be a map (named :name placeholders) or a list (positional ? placeholders)");
        }
    }

    private static object ToDb(object? value) => value switch
    {
        null => DBNull.Value,
        IReadOnlyDictionary<string, object?> or IReadOnlyList<object?> => ExpressionValues.ToJson(value),
        _ => value,
    };

    private static Dictionary<string, object?> ReadRow(DbDataReader reader)
    {
        var row = new Dictionary<string, object?>(reader.FieldCount, StringComparer.Ordinal);
        for (var i = 0; i < reader.FieldCount; i++)
        {
            row[reader.GetName(i)] = reader.IsDBNull(i) ? null : ToValue(reader.GetValue(i));
        }

        return row;
    }

    private static object? ToValue(object value) => value switch
    {
        DBNull => null,
        byte[] bytes => Convert.ToBase64String(bytes),
        DateTime { Kind: DateTimeKind.Unspecified } dt => dt.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        DateTime dt => new DateTimeOffset(dt.ToUniversalTime(), TimeSpan.Zero),
        TimeOnly t => t.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        System.Net.IPAddress ip => ip.ToString(),
        _ => ExpressionValues.Normalize(value),
    };

    private static FetchType ReadFetchType(RunContext context)
    {
        if (context.Render<string>("fetchType") is { } text)
        {
            return text.Trim().ToUpperInvariant() switch
            {
                "FETCH_ONE" => FetchType.FetchOne,
                "FETCH" => FetchType.Fetch,
                "STORE" => FetchType.Store,
                "NONE" => FetchType.None,
                _ => throw new TaskPropertyException($"Invalid value for property 'fetchType': '{text}' (expected FETCH_ONE, FETCH, STORE or NONE)"),
            };
        }

        if (context.Render("store", false))
        {
            return FetchType.Store;
        }

        if (context.Render("fetchOne", false))
        {
            return FetchType.FetchOne;
        }

        return context.Render("fetch", false) ? FetchType.Fetch : FetchType.None;
    }

    private static string FetchName(FetchType type) => type switch
    {
        FetchType.FetchOne => "FETCH_ONE",
        FetchType.Fetch => "FETCH",
        FetchType.Store => "STORE",
        _ => "NONE",
    };
}
