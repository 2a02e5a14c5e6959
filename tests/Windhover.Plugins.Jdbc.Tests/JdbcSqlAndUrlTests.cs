using Npgsql;

namespace Windhover.Plugins.Jdbc.Tests;

public sealed class JdbcSqlAndUrlTests
{
    [Fact]
    public void Named_parameters_become_at_names_outside_literals_comments_and_casts()
    {
        var r = JdbcSql.Rewrite("SELECT :id::int, ':skip', \"a:b\" -- :no\n/* :none */ FROM t WHERE x = :id AND y = :name_2 AND z = $$ :dollar $$", SqlDialect.PostgreSql, positional: false);
        Assert.Equal("SELECT @id::int, ':skip', \"a:b\" -- :no\n/* :none */ FROM t WHERE x = @id AND y = @name_2 AND z = $$ :dollar $$", r.Sql);
        Assert.Equal(["id", "name_2"], r.Names);
    }

    [Fact]
    public void Positional_parameters_are_numbered()
    {
        Assert.Equal("SELECT $1, '?', $2", JdbcSql.Rewrite("SELECT ?, '?', ?", SqlDialect.PostgreSql, positional: true).Sql);
        var sqlite = JdbcSql.Rewrite("SELECT ?, '?', ?", SqlDialect.Sqlite, positional: true);
        Assert.Equal("SELECT @p1, '?', @p2", sqlite.Sql);
        Assert.Equal(2, sqlite.PositionalCount);
    }

    [Fact]
    public void Postgres_jdbc_urls_map_to_npgsql_settings()
    {
        var b = JdbcUrl.PostgreSql("jdbc:postgresql://db.example:6543/sales?user=u1&password=p%401&sslmode=require&currentSchema=s1", null, null);
        Assert.Equal("db.example", b.Host);
        Assert.Equal(6543, b.Port);
        Assert.Equal("sales", b.Database);
        Assert.Equal("u1", b.Username);
        Assert.Equal("p@1", b.Password);
        Assert.Equal(SslMode.Require, b.SslMode);
        Assert.Equal("s1", b.SearchPath);

        var overridden = JdbcUrl.PostgreSql("jdbc:postgresql://localhost/app?user=u1", "u2", "secret");
        Assert.Equal(5432, overridden.Port);
        Assert.Equal("u2", overridden.Username);
        Assert.Equal("secret", overridden.Password);

        Assert.Equal("h1:5432,h2:5433", JdbcUrl.PostgreSql("jdbc:postgresql://h1:5432,h2:5433/db", null, null).Host);
        Assert.Throws<FormatException>(() => JdbcUrl.PostgreSql("jdbc:mysql://x/db", null, null));
    }

    [Fact]
    public void Sqlite_jdbc_urls_map_to_paths()
    {
        Assert.Equal("/tmp/x.db", JdbcUrl.Sqlite("jdbc:sqlite:/tmp/x.db", "/work").DataSource);
        Assert.Equal("/work/rel.db", JdbcUrl.Sqlite("jdbc:sqlite:rel.db", "/work").DataSource);
        Assert.Equal(":memory:", JdbcUrl.Sqlite("jdbc:sqlite::memory:", "/work").DataSource);
    }
}
