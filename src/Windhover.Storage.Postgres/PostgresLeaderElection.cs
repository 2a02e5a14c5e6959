using Npgsql;

namespace Windhover.Storage.Postgres;

/// <summary>
/// One leader at a time for a named duty (the Schedule trigger loop): the node holding a session advisory lock on a
/// dedicated connection leads. The lock dies with the leader's connection (process killed, network cut), so another
/// node takes over within <see cref="RetryInterval"/>; a leader whose connection fails stops leading at once.
/// </summary>
public sealed class PostgresLeaderElection(PostgresCluster cluster, string duty)
{
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether this node leads now.</summary>
    public bool IsLeader { get; private set; }

    /// <summary>Raised when this node becomes leader (true) or stops leading (false).</summary>
    public event Action<bool>? LeadershipChanged;

    /// <summary>Campaigns until <paramref name="cancellationToken"/> fires; runs <paramref name="lead"/> while leading (its token fires when leadership is lost).</summary>
    public async Task RunAsync(Func<CancellationToken, Task> lead, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = cluster.DedicatedConnection();
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", connection))
                {
                    tryLock.Parameters.AddWithValue("windhover:" + duty);
                    if (await tryLock.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
                    {
                        await connection.CloseAsync().ConfigureAwait(false);
                        await Task.Delay(RetryInterval, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                }

                using var leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                SetLeader(true);
                var work = Task.Run(() => lead(leading.Token), CancellationToken.None);
                try
                {
                    // Hold the lock while the connection lives; a failed check ends leadership.
                    while (!cancellationToken.IsCancellationRequested && !work.IsCompleted)
                    {
                        await Task.WhenAny(work, Task.Delay(RetryInterval, cancellationToken)).ConfigureAwait(false);
                        await using var check = new NpgsqlCommand("SELECT 1", connection);
                        await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    await leading.CancelAsync().ConfigureAwait(false);
                    SetLeader(false);
                    try
                    {
                        await work.ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                try
                {
                    await Task.Delay(RetryInterval, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void SetLeader(bool leader)
    {
        if (IsLeader != leader)
        {
            IsLeader = leader;
            LeadershipChanged?.Invoke(leader);
        }
    }
}
