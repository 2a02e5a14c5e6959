using System.Diagnostics;
using System.Net.Http.Json;
using Windhover.Blueprints.DevOpsCommander.Storage;
using Windhover.Blueprints.DevOpsCommander.Telemetry;

namespace Windhover.Blueprints.DevOpsCommander.Deployments;

/// <summary>The result of a rollback request.</summary>
public sealed record RollbackResult(DeploymentAction Rollback, bool AlreadyRolledBack, string RunningVersion);

/// <summary>Thrown when a rollback cannot be carried out (no previous version, or the deploy hook failed).</summary>
public sealed class RollbackFailedException(string message) : Exception(message);

/// <summary>
/// Rollbacks and continue decisions. A rollback restores the deployment's previous version (the one the service ran before
/// it, or the declared <c>previous_version</c>), records it and sets the service's running version, after the configured deploy
/// hook (URL or command) succeeded. Rolling back the same deployment again returns the first rollback.
/// </summary>
public sealed class DeploymentActions(CommanderStore store, TelemetryService telemetry, DevOpsCommanderOptions options, HttpClient http, TimeProvider time)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public DeployHookOptions Hook => options.DeployHook ?? new DeployHookOptions
    {
        Url = options.Env("DEVOPS_DEPLOY_HOOK_URL") is { Length: > 0 } u ? u : null,
        Command = options.Env("DEVOPS_DEPLOY_HOOK_COMMAND") is { Length: > 0 } c ? c : null,
    };

    /// <summary>Null when the deployment is unknown.</summary>
    public async Task<RollbackResult?> RollbackAsync(string deploymentId, string? executionId, string? reason, CancellationToken ct)
    {
        if (telemetry.Find(deploymentId) is not { } d)
        {
            return null;
        }

        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (store.ListActions(deploymentId, "rollback").FirstOrDefault() is { } existing)
            {
                return new RollbackResult(existing, true, store.GetRunningVersion(d.Service) ?? existing.ToVersion ?? d.Version);
            }

            var target = d.PreviousVersion ?? throw new RollbackFailedException(
                $"Cannot roll back '{deploymentId}': no previous version of {d.Service} is known (register the deployment with previous_version).");
            var hook = Hook;
            var (kind, result) = await RunHookAsync(hook, d, target, reason, ct).ConfigureAwait(false);
            var action = store.RecordAction(new DeploymentAction
            {
                DeploymentId = d.Id,
                Kind = "rollback",
                Service = d.Service,
                FromVersion = d.Version,
                ToVersion = target,
                At = time.GetUtcNow(),
                ExecutionId = executionId,
                Reason = reason,
                Hook = kind,
                HookResult = result,
            });
            return new RollbackResult(action, false, target);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Records that the deployment stays and is monitored; the service keeps running its version.</summary>
    public DeploymentAction? Continue(string deploymentId, string? executionId, string? reason)
    {
        if (telemetry.Find(deploymentId) is not { } d)
        {
            return null;
        }

        if (store.ListActions(deploymentId, "rollback").Count == 0)
        {
            store.SetRunningVersion(d.Service, d.Version, time.GetUtcNow());
        }

        return store.RecordAction(new DeploymentAction
        {
            DeploymentId = d.Id,
            Kind = "continue",
            Service = d.Service,
            FromVersion = d.Version,
            At = time.GetUtcNow(),
            ExecutionId = executionId,
            Reason = reason,
        });
    }

    private async Task<(string Kind, string? Result)> RunHookAsync(DeployHookOptions hook, DeploymentInfo d, string target, string? reason, CancellationToken ct)
    {
        if (hook.Url is { } url)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(hook.Timeout);
            HttpResponseMessage response;
            try
            {
                response = await http.PostAsJsonAsync(url, new { deployment_id = d.Id, service = d.Service, from_version = d.Version, to_version = target, reason }, cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                throw new RollbackFailedException($"Deploy hook {url} could not be reached: {ex.Message}");
            }

            using (response)
            {
                var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    throw new RollbackFailedException($"Deploy hook {url} answered {(int)response.StatusCode}: {Cut(body)}");
                }

                return ("url", $"{(int)response.StatusCode} {Cut(body)}");
            }
        }

        if (hook.Command is { } command)
        {
            var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(command);
            psi.Environment["DEPLOYMENT_ID"] = d.Id;
            psi.Environment["SERVICE"] = d.Service;
            psi.Environment["FROM_VERSION"] = d.Version;
            psi.Environment["TO_VERSION"] = target;
            using var process = Process.Start(psi) ?? throw new RollbackFailedException($"Deploy hook command could not start: {command}");
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(hook.Timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new RollbackFailedException($"Deploy hook command timed out after {hook.Timeout.TotalSeconds} s: {command}");
            }

            var output = (await stdout.ConfigureAwait(false)).Trim();
            if (process.ExitCode != 0)
            {
                throw new RollbackFailedException($"Deploy hook command exited with {process.ExitCode}: {Cut((await stderr.ConfigureAwait(false)).Trim())}");
            }

            return ("command", Cut(output));
        }

        return ("none", null);
    }

    private static string Cut(string s) => s.Length > 500 ? s[..500] + "..." : s;
}
