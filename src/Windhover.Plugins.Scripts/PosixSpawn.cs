using System.ComponentModel;
using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Windhover.Plugins.Scripts;

/// <summary>
/// A child process started with <c>posix_spawn</c> (Linux, glibc) in a new session, hence its own process group, without
/// the extra <c>setsid</c> exec: stdin is <c>/dev/null</c>, stdout and stderr are pipes read asynchronously, signal
/// dispositions and mask are reset to the defaults (the .NET runtime ignores SIGPIPE; a script must not inherit that),
/// the working directory is set in the child. A dedicated thread reaps it with <c>waitpid</c>.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed unsafe partial class SpawnedProcess : IDisposable
{
    private const int POSIX_SPAWN_SETSIGDEF = 0x04;
    private const int POSIX_SPAWN_SETSIGMASK = 0x08;
    private const int POSIX_SPAWN_SETSID = 0x80;
    private const int O_RDONLY = 0;
    private const int O_CLOEXEC = 0x80000;
    private const int EINTR = 4;
    private const int OpaqueSize = 1024; // posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80, sigset_t 128 on glibc x86-64/arm64

    private static int s_supported = -1;

    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SpawnedProcess(int pid, StreamReader stdout, StreamReader stderr)
    {
        Id = pid;
        StandardOutput = stdout;
        StandardError = stderr;
        var reaper = new Thread(Reap, 64 * 1024) { IsBackground = true, Name = "windhover-reap" };
        reaper.Start();
    }

    public int Id { get; }
    public StreamReader StandardOutput { get; }
    public StreamReader StandardError { get; }

    /// <summary>The exit code as <see cref="Process.ExitCode"/> reports it (128 + the signal for a killed process).</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>Whether this platform can spawn this way (Linux with glibc's <c>posix_spawn_file_actions_addchdir_np</c>).</summary>
    public static bool IsSupported
    {
        get
        {
            if (s_supported < 0)
            {
                s_supported = NativeLibrary.TryLoad("libc.so.6", out var libc)
                    && NativeLibrary.TryGetExport(libc, "posix_spawn_file_actions_addchdir_np", out _) ? 1 : 0;
            }

            return s_supported == 1;
        }
    }

    /// <summary>
    /// Starts <paramref name="argv"/> (argv[0] searched in the child environment's PATH when it has no slash, as
    /// <c>setsid</c>'s exec did) in <paramref name="workingDirectory"/> with exactly <paramref name="environment"/>.
    /// </summary>
    public static SpawnedProcess Start(IReadOnlyList<string> argv, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var program = Resolve(argv[0], environment, workingDirectory);
        int* stdoutPipe = stackalloc int[2];
        int* stderrPipe = stackalloc int[2];
        stdoutPipe[0] = stdoutPipe[1] = stderrPipe[0] = stderrPipe[1] = -1;
        var actions = NativeMemory.AllocZeroed(OpaqueSize);
        var attributes = NativeMemory.AllocZeroed(OpaqueSize);
        var signals = NativeMemory.AllocZeroed(OpaqueSize);
        var strings = new List<nint>();
        var actionsReady = false;
        var attributesReady = false;
        try
        {
            Check(Pipe2(stdoutPipe, O_CLOEXEC) == 0 ? 0 : Marshal.GetLastPInvokeError(), "pipe2");
            Check(Pipe2(stderrPipe, O_CLOEXEC) == 0 ? 0 : Marshal.GetLastPInvokeError(), "pipe2");

            Check(FileActionsInit(actions), "posix_spawn_file_actions_init");
            actionsReady = true;
            Check(FileActionsAddOpen(actions, 0, Utf8(strings, "/dev/null"), O_RDONLY, 0), "posix_spawn_file_actions_addopen");
            Check(FileActionsAddDup2(actions, stdoutPipe[1], 1), "posix_spawn_file_actions_adddup2");
            Check(FileActionsAddDup2(actions, stderrPipe[1], 2), "posix_spawn_file_actions_adddup2");
            Check(FileActionsAddChdir(actions, Utf8(strings, workingDirectory)), "posix_spawn_file_actions_addchdir_np");

            Check(AttrInit(attributes), "posix_spawnattr_init");
            attributesReady = true;
            Check(AttrSetFlags(attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK), "posix_spawnattr_setflags");
            SigFillSet(signals);
            Check(AttrSetSigDefault(attributes, signals), "posix_spawnattr_setsigdefault");
            SigEmptySet(signals);
            Check(AttrSetSigMask(attributes, signals), "posix_spawnattr_setsigmask");

            var args = stackalloc nint[argv.Count + 1];
            args[0] = Utf8(strings, argv[0]);
            for (var i = 1; i < argv.Count; i++)
            {
                args[i] = Utf8(strings, argv[i]);
            }

            args[argv.Count] = 0;
            var env = new nint[environment.Count + 1];
            var n = 0;
            foreach (var (name, value) in environment)
            {
                env[n++] = Utf8(strings, name + "=" + value);
            }

            int pid;
            fixed (nint* envp = env)
            {
                var error = Spawn(&pid, Utf8(strings, program), actions, attributes, args, envp);
                if (error != 0)
                {
                    throw new Win32Exception(error, $"{new Win32Exception(error).Message} ({program})");
                }
            }

            Close(stdoutPipe[1]);
            Close(stderrPipe[1]);
            stdoutPipe[1] = stderrPipe[1] = -1;
            var stdout = Reader(stdoutPipe[0]);
            stdoutPipe[0] = -1;
            var stderr = Reader(stderrPipe[0]);
            stderrPipe[0] = -1;
            return new SpawnedProcess(pid, stdout, stderr);
        }
        finally
        {
            foreach (var fd in new[] { stdoutPipe[0], stdoutPipe[1], stderrPipe[0], stderrPipe[1] })
            {
                if (fd >= 0)
                {
                    Close(fd);
                }
            }

            if (actionsReady)
            {
                FileActionsDestroy(actions);
            }

            if (attributesReady)
            {
                AttrDestroy(attributes);
            }

            NativeMemory.Free(actions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(signals);
            strings.ForEach(Marshal.FreeHGlobal);
        }
    }

    /// <summary>SIGKILL to the whole tree: the process group, and descendants that left it (while the child is not reaped).</summary>
    public void KillTree()
    {
        if (!_exited.Task.IsCompleted)
        {
            try
            {
                using var process = Process.GetProcessById(Id);
                process.Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
                // gone
            }
            catch (InvalidOperationException)
            {
            }
            catch (Win32Exception)
            {
            }
        }

        NativeMethods.KillProcessGroup(Id);
    }

    private void Reap()
    {
        int status;
        while (true)
        {
            var result = WaitPid(Id, &status, 0);
            if (result == Id)
            {
                break;
            }

            if (result < 0 && Marshal.GetLastPInvokeError() == EINTR)
            {
                continue;
            }

            _exited.TrySetResult(-1); // not our child any more (reaped elsewhere): nothing to report
            return;
        }

        var signal = status & 0x7f;
        _exited.TrySetResult(signal == 0 ? (status >> 8) & 0xff : 128 + signal);
    }

    private static StreamReader Reader(int fd) =>
        new(new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(fd, ownsHandle: true)), new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, bufferSize: 4096);

    private static string Resolve(string program, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return Path.IsPathRooted(program) ? program : Path.GetFullPath(program);
        }

        var path = environment.TryGetValue("PATH", out var value) ? value : "/usr/local/bin:/usr/bin:/bin";
        foreach (var dir in path.Split(':'))
        {
            var candidate = Path.Combine(dir.Length == 0 ? workingDirectory : dir, program);
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return candidate;
            }
        }

        throw new Win32Exception(2, $"No such file or directory ({program} not found in PATH)");
    }

    private static nint Utf8(List<nint> owned, string text)
    {
        var bytes = Encoding.UTF8.GetByteCount(text);
        var memory = Marshal.AllocHGlobal(bytes + 1);
        owned.Add(memory);
        var span = new Span<byte>((void*)memory, bytes + 1);
        Encoding.UTF8.GetBytes(text, span);
        span[bytes] = 0;
        return memory;
    }

    private static void Check(int error, string function)
    {
        if (error != 0)
        {
            throw new Win32Exception(error, $"{function}: {new Win32Exception(error).Message}");
        }
    }

    public void Dispose()
    {
        StandardOutput.Dispose();
        StandardError.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    private static partial int Spawn(int* pid, nint path, void* fileActions, void* attributes, nint* argv, nint* envp);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int FileActionsInit(void* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int FileActionsDestroy(void* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen")]
    private static partial int FileActionsAddOpen(void* actions, int fd, nint path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int FileActionsAddDup2(void* actions, int fd, int newFd);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addchdir_np")]
    private static partial int FileActionsAddChdir(void* actions, nint path);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    private static partial int AttrInit(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    private static partial int AttrDestroy(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    private static partial int AttrSetFlags(void* attributes, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int AttrSetSigDefault(void* attributes, void* signals);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int AttrSetSigMask(void* attributes, void* signals);

    [LibraryImport("libc", EntryPoint = "sigfillset")]
    private static partial int SigFillSet(void* set);

    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    private static partial int SigEmptySet(void* set);
}
