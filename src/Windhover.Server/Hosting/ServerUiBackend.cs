using System.Collections.Immutable;
using Microsoft.AspNetCore.Http;
using Windhover.Engine.Executions;
using Windhover.Engine.Stores;
using Windhover.Engine.Triggers;
using Windhover.Server.Backend;
using Windhover.Ui;

namespace Windhover.Server.Hosting;

/// <summary>Binds the web UI's port to the same services the REST API uses.</summary>
internal sealed class ServerUiBackend(FlowService flows, IExecutionService executions, IExecutionStore store, ITriggerService triggers, ITriggerStateStore triggerStates, UiSessions sessions) : IUiBackend
{
    public async Task<FlowRecord> SaveFlowAsync(string? @namespace, string? id, string source, CancellationToken cancellationToken)
    {
        try
        {
            return @namespace is null || id is null
                ? await flows.CreateAsync(source, cancellationToken)
                : await flows.UpdateAsync(@namespace, id, source, cancellationToken);
        }
        catch (Exception e) when (e is InvalidFlowException or NotFoundException)
        {
            throw new UiException(e.Message, e);
        }
    }

    public async Task<Execution> ExecuteAsync(FlowRecord flow, IReadOnlyDictionary<string, object?> inputs, IReadOnlyList<UiFile> files, CancellationToken cancellationToken)
    {
        try
        {
            return await executions.CreateAsync(new CreateExecutionRequest
            {
                Flow = flow,
                Inputs = inputs,
                Files = [.. files.Select(f => new UploadedFile(f.InputId, f.FileName, f.ContentType, f.Content))],
            }, cancellationToken);
        }
        catch (Exception e) when (e is InputValidationException or ConflictException or NotFoundException)
        {
            throw new UiException(e.Message, e);
        }
    }

    public async Task<Execution> KillAsync(string executionId, CancellationToken cancellationToken)
    {
        try
        {
            return await executions.KillAsync(executionId, cancellationToken);
        }
        catch (Exception e) when (e is ConflictException or NotFoundException)
        {
            throw new UiException(e.Message, e);
        }
    }

    public Task<Execution> RestartAsync(string executionId, CancellationToken cancellationToken) =>
        MapAsync(async () =>
        {
            var execution = await RequireAsync(executionId, cancellationToken);
            if (!execution.State.Current.IsTerminal() || execution.State.Current is State.Success)
            {
                throw new ConflictException($"Execution {executionId} is {execution.State.Current.ToKestraName()} and cannot be restarted");
            }

            return await executions.RestartAsync(executionId, null, cancellationToken);
        });

    public Task<Execution> ReplayAsync(string executionId, string? taskRunId, CancellationToken cancellationToken) =>
        MapAsync(async () =>
        {
            var execution = await RequireAsync(executionId, cancellationToken);
            if (taskRunId is not null && execution.FindTaskRun(taskRunId) is null)
            {
                throw new NotFoundException($"Task run not found: {taskRunId}");
            }

            return await executions.ReplayAsync(executionId, taskRunId, null, cancellationToken);
        });

    public Task<Execution> ResumeAsync(string executionId, IReadOnlyDictionary<string, object?> inputs, IReadOnlyList<UiFile> files, CancellationToken cancellationToken) =>
        MapAsync(async () =>
        {
            var execution = await RequireAsync(executionId, cancellationToken);
            if (execution.State.Current is not State.Paused)
            {
                throw new ConflictException($"Execution {executionId} is {execution.State.Current.ToKestraName()}, not PAUSED");
            }

            return await executions.ResumeAsync(executionId, inputs, [.. files.Select(f => new UploadedFile(f.InputId, f.FileName, f.ContentType, f.Content))], cancellationToken);
        });

    public Task<Execution> SetLabelsAsync(string executionId, IReadOnlyList<ExecutionLabel> labels, CancellationToken cancellationToken) =>
        MapAsync(async () =>
        {
            await RequireAsync(executionId, cancellationToken);
            var checkedLabels = labels.Select(l => Windhover.Server.Api.ApiHelpers.CheckLabel(l.Key, l.Value)).ToImmutableArray();
            return await executions.SetLabelsAsync(executionId, checkedLabels, cancellationToken);
        });

    public async Task<IReadOnlyList<UiTrigger>> TriggersAsync(CancellationToken cancellationToken)
    {
        // The API's "date" falls back to the state's update time; the page shows the real last fire only.
        var states = (await triggerStates.ListAsync(cancellationToken)).ToDictionary(s => s.Key);
        return [.. (await triggers.ListAsync(cancellationToken)).Select(t => new UiTrigger(t.Namespace, t.FlowId, t.TriggerId, t.Type, t.NextExecutionDate,
            states.GetValueOrDefault((t.Namespace, t.FlowId, t.TriggerId))?.LastFire, t.Disabled, t.ExecutionId))];
    }

    public async Task SetTriggerDisabledAsync(string @namespace, string flowId, string triggerId, bool disabled, CancellationToken cancellationToken)
    {
        if (await triggers.SetDisabledAsync(@namespace, flowId, triggerId, disabled, cancellationToken) is null)
        {
            throw new UiException($"Trigger not found: {@namespace}.{flowId}.{triggerId}");
        }
    }

    public bool SignInRequired => sessions.Enabled;

    public string? SignedInUser(HttpContext context) => sessions.Enabled ? sessions.User(context.Request.Cookies[UiSessions.CookieName]) : null;

    public bool SignIn(HttpContext context, string? user, string? password)
    {
        if (!sessions.Enabled || !sessions.CheckCredentials(user, password))
        {
            return false;
        }

        context.Response.Cookies.Append(UiSessions.CookieName, sessions.Issue(string.IsNullOrEmpty(user) ? "token" : user), new CookieOptions
        {
            Path = "/",
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            MaxAge = UiSessions.Lifetime,
        });
        return true;
    }

    public void SignOut(HttpContext context) =>
        context.Response.Cookies.Delete(UiSessions.CookieName, new CookieOptions { Path = "/", HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps });

    private async Task<Execution> RequireAsync(string executionId, CancellationToken cancellationToken) =>
        await store.GetAsync(executionId, cancellationToken) ?? throw new NotFoundException($"Execution not found: {executionId}");

    private static async Task<Execution> MapAsync(Func<Task<Execution>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (e is ConflictException or NotFoundException or InputValidationException or InvalidOperationException or ArgumentException)
        {
            throw new UiException(e.Message, e);
        }
    }
}
