using Windhover.Engine.Stores;
using Windhover.Engine.Tests.Stores;

namespace Windhover.Storage.Sqlite.Tests;

public sealed class SqliteStoreTests : StoreContractTests, IDisposable
{
    private readonly string _folder = RuntimeHost.NewFolder();
    private readonly List<SqliteDatabase> _databases = [];

    protected override StoreSet CreateStores()
    {
        var database = SqliteDatabase.Open(Path.Combine(_folder, $"db{_databases.Count}.db"), new SqliteStoreOptions { TimeProvider = Time });
        _databases.Add(database);
        return database.CreateStores();
    }

    [Fact]
    public void Schema_is_migrated_at_open_and_reopen_is_idempotent()
    {
        var path = Path.Combine(_folder, "schema.db");
        using (var first = SqliteDatabase.Open(path))
        {
            Assert.Equal(4, first.SchemaVersion);
        }

        using var second = SqliteDatabase.Open(path);
        Assert.Equal(4, second.SchemaVersion);
    }

    public void Dispose()
    {
        _databases.ForEach(d => d.Dispose());
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
