using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Windhover.Client;

namespace Windhover.Server.Tests;

public sealed class FlowsApiTests : IAsyncLifetime
{
    private ServerHarness _server = null!;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    internal const string Hello = """
        id: hello
        namespace: company.team
        labels:
          env: test
        tasks:
          - id: log
            type: io.kestra.plugin.core.log.Log
            message: Hello
        """;

    private static StringContent Yaml(string text) => new(text, Encoding.UTF8, "application/x-yaml");

    private async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        using var response = await _server.Http.SendAsync(new HttpRequestMessage(method, path) { Content = content });
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    [Fact]
    public async Task Create_returns_the_flow_with_source_and_revision_1()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "api/v1/flows", Yaml(Hello));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("hello", body!["id"]!.GetValue<string>());
        Assert.Equal("company.team", body["namespace"]!.GetValue<string>());
        Assert.Equal(1, body["revision"]!.GetValue<int>());
        Assert.Equal(Hello, body["source"]!.GetValue<string>());
        Assert.Equal("env", body["labels"]![0]!["key"]!.GetValue<string>());
        Assert.Equal("io.kestra.plugin.core.log.Log", body["tasks"]![0]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tenant_form_answers_the_same_routes()
    {
        var (status, _) = await SendAsync(HttpMethod.Post, "api/v1/main/flows", Yaml(Hello));
        Assert.Equal(HttpStatusCode.OK, status);
        var (getStatus, body) = await SendAsync(HttpMethod.Get, "api/v1/main/flows/company.team/hello");
        Assert.Equal(HttpStatusCode.OK, getStatus);
        Assert.Equal("hello", body!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_twice_is_refused_with_422()
    {
        await SendAsync(HttpMethod.Post, "api/v1/flows", Yaml(Hello));
        var (status, body) = await SendAsync(HttpMethod.Post, "api/v1/flows", Yaml(Hello));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("already exists", body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Invalid_flow_is_422_Invalid_entity_with_the_violation()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "api/v1/flows", Yaml("id: x\nnamespace: a.b\ntasks: []\n"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        var message = body!["message"]!.GetValue<string>();
        Assert.StartsWith("Invalid entity: ", message);
        Assert.Contains("must not be empty", message);
    }

    [Fact]
    public async Task Update_creates_a_revision_only_when_content_changes()
    {
        await SendAsync(HttpMethod.Post, "api/v1/flows", Yaml(Hello));
        var (_, same) = await SendAsync(HttpMethod.Put, "api/v1/flows/company.team/hello", Yaml(Hello));
        Assert.Equal(1, same!["revision"]!.GetValue<int>());
        var changed = Hello.Replace("message: Hello", "message: Bye", StringComparison.Ordinal);
        var (status, updated) = await SendAsync(HttpMethod.Put, "api/v1/flows/company.team/hello", Yaml(changed));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, updated!["revision"]!.GetValue<int>());
        var (_, revisions) = await SendAsync(HttpMethod.Get, "api/v1/flows/company.team/hello/revisions");
        Assert.Equal(2, revisions!.AsArray().Count);
        var (_, first) = await SendAsync(HttpMethod.Get, "api/v1/flows/company.team/hello?revision=1");
        Assert.Contains("message: Hello", first!["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task Update_of_unknown_flow_is_404_and_id_change_is_422()
    {
        var (status, _) = await SendAsync(HttpMethod.Put, "api/v1/flows/company.team/hello", Yaml(Hello));
        Assert.Equal(HttpStatusCode.NotFound, status);
        await SendAsync(HttpMethod.Post, "api/v1/flows", Yaml(Hello));
        var (status2, _) = await SendAsync(HttpMethod.Put, "api/v1/flows/company.team/hello", Yaml(Hello.Replace("id: hello", "id: other", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status2);
    }

    [Fact]
    public async Task Delete_then_get_is_404_and_second_delete_is_404()
    {
        await SendAsync(HttpMethod.Post, "api/v1/flows", Yaml(Hello));
        var (status, _) = await SendAsync(HttpMethod.Delete, "api/v1/flows/company.team/hello");
        Assert.Equal(HttpStatusCode.NoContent, status);
        var (getStatus, body) = await SendAsync(HttpMethod.Get, "api/v1/flows/company.team/hello");
        Assert.Equal(HttpStatusCode.NotFound, getStatus);
        Assert.Contains("Flow not found", body!["message"]!.GetValue<string>());
        var (again, _) = await SendAsync(HttpMethod.Delete, "api/v1/flows/company.team/hello");
        Assert.Equal(HttpStatusCode.NotFound, again);
        var (deleted, deletedBody) = await SendAsync(HttpMethod.Get, "api/v1/flows/company.team/hello?allowDeleted=true");
        Assert.Equal(HttpStatusCode.OK, deleted);
        Assert.True(deletedBody!["deleted"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Search_pages_filters_and_sorts()
    {
        for (var i = 0; i < 5; i++)
        {
            await SendAsync(HttpMethod.Post, "api/v1/flows", Yaml(Hello.Replace("id: hello", $"id: flow{i}", StringComparison.Ordinal)));
        }

        await SendAsync(HttpMethod.Post, "api/v1/flows", Yaml(Hello.Replace("company.team", "other.ns", StringComparison.Ordinal)));
        var (_, page) = await SendAsync(HttpMethod.Get, "api/v1/flows/search?namespace=company&size=2&page=2&sort=id:desc");
        Assert.Equal(5, page!["total"]!.GetValue<int>());
        var ids = page["results"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["flow2", "flow1"], ids);
        var (_, q) = await SendAsync(HttpMethod.Get, "api/v1/flows/search?q=flow3");
        Assert.Equal(1, q!["total"]!.GetValue<int>());
        var (_, labels) = await SendAsync(HttpMethod.Get, "api/v1/flows/search?labels=env:test");
        Assert.Equal(6, labels!["total"]!.GetValue<int>());
        var (_, none) = await SendAsync(HttpMethod.Get, "api/v1/flows/search?labels=env:prod");
        Assert.Equal(0, none!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task List_by_namespace_and_distinct_namespaces()
    {
        await SendAsync(HttpMethod.Post, "api/v1/flows", Yaml(Hello));
        await SendAsync(HttpMethod.Post, "api/v1/flows", Yaml(Hello.Replace("company.team", "other.ns", StringComparison.Ordinal)));
        var (_, list) = await SendAsync(HttpMethod.Get, "api/v1/flows/company.team");
        Assert.Single(list!.AsArray());
        var (_, namespaces) = await SendAsync(HttpMethod.Get, "api/v1/flows/distinct-namespaces");
        Assert.Equal(["company.team", "other.ns"], namespaces!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task Validate_returns_one_entry_per_document_with_constraints()
    {
        var yaml = Hello + "\n---\nid: broken\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Nope\n";
        var results = await _server.Client.ValidateFlowsAsync(yaml);
        Assert.Equal(2, results.Count);
        Assert.True(results[0].IsValid);
        Assert.Equal("hello", results[0].Flow);
        Assert.False(results[1].IsValid);
        Assert.Contains("Nope", results[1].Constraints);
    }

    [Fact]
    public async Task Replace_namespace_creates_updates_and_deletes()
    {
        await SendAsync(HttpMethod.Post, "api/v1/flows", Yaml(Hello.Replace("id: hello", "id: old", StringComparison.Ordinal)));
        var yaml = Hello + "\n---\n" + Hello.Replace("id: hello", "id: second", StringComparison.Ordinal);
        var (status, body) = await SendAsync(HttpMethod.Post, "api/v1/flows/company.team", Yaml(yaml));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body!.AsArray().Count);
        var (_, list) = await SendAsync(HttpMethod.Get, "api/v1/flows/company.team");
        Assert.Equal(["hello", "second"], list!.AsArray().Select(f => f!["id"]!.GetValue<string>()));
        var (wrong, _) = await SendAsync(HttpMethod.Post, "api/v1/flows/other.ns", Yaml(Hello));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrong);
    }

    [Fact]
    public async Task Client_deploys_gets_and_deletes_flows()
    {
        var created = await _server.Client.DeployFlowAsync(Hello);
        Assert.Equal(1, created.Revision);
        var again = await _server.Client.DeployFlowAsync(Hello.Replace("Hello", "Hi", StringComparison.Ordinal));
        Assert.Equal(2, again.Revision);
        var fetched = await _server.Client.GetFlowAsync("company.team", "hello");
        Assert.Contains("Hi", fetched!.Source);
        await _server.Client.DeleteFlowAsync("company.team", "hello");
        Assert.Null(await _server.Client.GetFlowAsync("company.team", "hello"));
        var error = await Assert.ThrowsAsync<WindhoverApiException>(() => _server.Client.DeleteFlowAsync("company.team", "hello"));
        Assert.Equal(404, error.StatusCode);
    }
}
