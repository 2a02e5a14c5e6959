using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Windhover.Plugins.Scripts.Tests;

internal sealed class LogSink
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    public ConcurrentQueue<(ScriptLogEntry Entry, TimeSpan At)> Entries { get; } = new();

    public void Add(ScriptLogEntry entry) => Entries.Enqueue((entry, _clock.Elapsed));

    public List<ScriptLogEntry> Script => Entries.Select(e => e.Entry).Where(e => e.Source != ScriptLogSource.Runner).ToList();

    public int FindPid(string prefix)
    {
        foreach (var (entry, _) in Entries)
        {
            var m = Regex.Match(entry.Message, "^" + Regex.Escape(prefix) + @"(\d+)$");
            if (m.Success)
            {
                return int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"no '{prefix}' line in the logs: " + string.Join(" | ", Entries.Select(e => e.Entry.Message)));
    }
}

internal static class Procs
{
    /// <summary>True while <paramref name="pid"/> exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state is not ("Z" or "X");
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static async Task<bool> WaitGoneAsync(int pid, TimeSpan within)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < within)
        {
            if (!IsAlive(pid))
            {
                return true;
            }
            await Task.Delay(25);
        }
        return !IsAlive(pid);
    }
}
