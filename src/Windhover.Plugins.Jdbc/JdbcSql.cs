using System.Text;

namespace Windhover.Plugins.Jdbc;

/// <summary>SQL dialects the Query tasks speak.</summary>
public enum SqlDialect
{
    PostgreSql,
    Sqlite,
}

/// <summary>
/// Rewrites JDBC-style placeholders for ADO.NET providers: named <c>:name</c> becomes <c>@name</c>, positional
/// <c>?</c> becomes <c>$1</c>, <c>$2</c>... on PostgreSQL (SQLite takes <c>?</c> as it is). String literals, quoted
/// identifiers, comments, PostgreSQL dollar-quoted strings and <c>::</c> casts are left alone.
/// </summary>
public static class JdbcSql
{
    /// <summary>The rewritten SQL and the parameter names (named) or the count of <c>?</c> (positional) found.</summary>
    public sealed record Rewritten(string Sql, IReadOnlyList<string> Names, int PositionalCount);

    public static Rewritten Rewrite(string sql, SqlDialect dialect, bool positional)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var sb = new StringBuilder(sql.Length + 8);
        var names = new List<string>();
        var count = 0;
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            switch (c)
            {
                case '\'' or '"' or '`':
                {
                    var end = SkipQuoted(sql, i, c);
                    sb.Append(sql, i, end - i);
                    i = end;
                    continue;
                }

                case '-' when i + 1 < sql.Length && sql[i + 1] == '-':
                {
                    var end = sql.IndexOf('\n', i);
                    end = end < 0 ? sql.Length : end;
                    sb.Append(sql, i, end - i);
                    i = end;
                    continue;
                }

                case '/' when i + 1 < sql.Length && sql[i + 1] == '*':
                {
                    var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                    end = end < 0 ? sql.Length : end + 2;
                    sb.Append(sql, i, end - i);
                    i = end;
                    continue;
                }

                case '$' when dialect == SqlDialect.PostgreSql && DollarTag(sql, i) is { } tag:
                {
                    var close = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                    var end = close < 0 ? sql.Length : close + tag.Length;
                    sb.Append(sql, i, end - i);
                    i = end;
                    continue;
                }

                case ':' when i + 1 < sql.Length && sql[i + 1] == ':':
                    sb.Append("::");
                    i += 2;
                    continue;
                case ':' when !positional && i + 1 < sql.Length && IsNameStart(sql[i + 1]) && (i == 0 || !IsNamePart(sql[i - 1])):
                {
                    var start = i + 1;
                    var end = start;
                    while (end < sql.Length && IsNamePart(sql[end]))
                    {
                        end++;
                    }

                    var name = sql[start..end];
                    if (!names.Contains(name, StringComparer.Ordinal))
                    {
                        names.Add(name);
                    }

                    sb.Append('@').Append(name);
                    i = end;
                    continue;
                }

                case '?' when positional:
                    count++;
                    if (dialect == SqlDialect.PostgreSql)
                    {
                        sb.Append('$').Append(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        // Microsoft.Data.Sqlite binds by name only
                        sb.Append("@p").Append(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }

                    i++;
                    continue;
                default:
                    sb.Append(c);
                    i++;
                    continue;
            }
        }

        return new Rewritten(sb.ToString(), names, count);
    }

    private static int SkipQuoted(string sql, int start, char quote)
    {
        var i = start + 1;
        while (i < sql.Length)
        {
            if (sql[i] == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                {
                    i += 2; // doubled quote inside the literal
                    continue;
                }

                return i + 1;
            }

            i++;
        }

        return sql.Length;
    }

    /// <summary>The opening tag of a dollar-quoted string (<c>$$</c> or <c>$tag$</c>) at <paramref name="i"/>, or null.</summary>
    private static string? DollarTag(string sql, int i)
    {
        if (i > 0 && IsNamePart(sql[i - 1]))
        {
            return null;
        }

        var j = i + 1;
        while (j < sql.Length && (char.IsLetter(sql[j]) || sql[j] == '_' || (j > i + 1 && char.IsDigit(sql[j]))))
        {
            j++;
        }

        return j < sql.Length && sql[j] == '$' ? sql[i..(j + 1)] : null;
    }

    private static bool IsNameStart(char c) => char.IsLetter(c) || c == '_';

    private static bool IsNamePart(char c) => char.IsLetterOrDigit(c) || c == '_';
}
