using System.Net.Sockets;

namespace Windhover.Plugins.Scripts;

/// <summary>Tells quickly whether a Docker engine answers on its Unix socket.</summary>
public static class DockerProbe
{
    public const string DefaultSocketPath = "/var/run/docker.sock";

    /// <summary>
    /// True when <paramref name="socketPath"/> exists and accepts a connection within <paramref name="timeout"/>
    /// (default 250 ms). A missing socket answers at once.
    /// </summary>
    public static async Task<bool> IsAvailableAsync(string socketPath = DefaultSocketPath, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(socketPath))
        {
            return false;
        }
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromMilliseconds(250));
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
