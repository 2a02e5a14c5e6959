using Windhover.Engine.Stores;

namespace Windhover.Engine.Tests.Stores;

public sealed class InMemoryStoreTests : StoreContractTests
{
    protected override StoreSet CreateStores() => InMemoryStores.Create(Time);
}
