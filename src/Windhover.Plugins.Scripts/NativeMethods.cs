using System.Runtime.InteropServices;

namespace Windhover.Plugins.Scripts;

internal static partial class NativeMethods
{
    public const int SIGKILL = 9;

    /// <summary>kill(2); a negative pid targets the whole process group.</summary>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    /// <summary>SIGKILL to every process of group <paramref name="pgid"/>; false when none is left (or not on Unix).</summary>
    public static bool KillProcessGroup(int pgid)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() || pgid <= 1)
        {
            return false;
        }
        return Kill(-pgid, SIGKILL) == 0;
    }
}
