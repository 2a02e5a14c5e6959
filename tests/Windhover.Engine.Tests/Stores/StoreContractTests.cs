namespace Windhover.Engine.Tests.Stores;
