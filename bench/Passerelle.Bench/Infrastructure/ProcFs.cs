using System.Globalization;

namespace Passerelle.Bench.Infrastructure;

/// <summary>What Linux tells of a process and of each core, from /proc: CPU time used, resident memory, core busy time.</summary>
internal static class ProcFs
{
    private static readonly double SecondsPerTick = 1.0 / Native.ClockTicksPerSecond;

    /// <summary>User + system CPU seconds used so far by process <paramref name="pid"/> (all its threads), from /proc/PID/stat.</summary>
    /// <param name="withChildren">Also the time of its children that exited and were waited for (cutime, cstime), such as wrk for the bench process.</param>
    public static double CpuSeconds(int pid, bool withChildren = false)
    {
        var stat = Read($"/proc/{pid}/stat");
        // Fields after "(comm)": state is field 3, utime field 14, stime field 15, cutime 16, cstime 17.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        if (withChildren)
        {
            ticks += long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        }

        return ticks * SecondsPerTick;
    }

    /// <summary>VmRSS of process <paramref name="pid"/>, in KiB, from /proc/PID/status.</summary>
    public static long RssKiB(int pid)
    {
        var line = Read($"/proc/{pid}/status").Split('\n').FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            ?? throw new BenchException($"no VmRSS in /proc/{pid}/status");
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>Busy and total jiffies of each core (cpu0, cpu1, ...), from /proc/stat; busy excludes idle and iowait.</summary>
    public static (long Busy, long Total)[] CoreTimes()
    {
        var cores = new List<(long, long)>();
        foreach (var line in Read("/proc/stat").Split('\n'))
        {
            if (!line.StartsWith("cpu", StringComparison.Ordinal) || line.Length < 4 || !char.IsAsciiDigit(line[3]))
            {
                continue;
            }

            var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var total = values.Take(8).Sum(); // user nice system idle iowait irq softirq steal
            cores.Add((total - values[3] - values[4], total));
        }

        return [.. cores];
    }

    /// <summary>Per core, the share of time busy between two <see cref="CoreTimes"/> readings, in percent.</summary>
    public static double[] BusyPercent((long Busy, long Total)[] before, (long Busy, long Total)[] after) =>
        [.. before.Zip(after, (b, a) => a.Total == b.Total ? 0 : 100.0 * (a.Busy - b.Busy) / (a.Total - b.Total))];

    /// <summary>The CPUs this process may run on (Cpus_allowed_list), or "?".</summary>
    public static string CpusAllowed()
    {
        try
        {
            var line = Read("/proc/self/status").Split('\n').FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
            return line?["Cpus_allowed_list:".Length..].Trim() ?? "?";
        }
        catch (BenchException)
        {
            return "?";
        }
    }

    /// <summary>
    /// The hard limit of open files of this process (inherited by what it starts), from /proc/self/limits: a proxy needs
    /// two descriptors per proxied connection, and without CAP_SYS_RESOURCE nothing here can raise it.
    /// </summary>
    public static int OpenFilesHardLimit()
    {
        var line = Read("/proc/self/limits").Split('\n').FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var hard = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1);
        return int.TryParse(hard, CultureInfo.InvariantCulture, out var value) ? value : int.MaxValue;
    }

    /// <summary>How many files (sockets included) process <paramref name="pid"/> has open, from /proc/PID/fd.</summary>
    public static int OpenFiles(int pid)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Count();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>Child process ids of <paramref name="parent"/>.</summary>
    public static List<int> Children(int parent)
    {
        var children = new List<int>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
                {
                    children.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }

        return children;
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BenchException($"cannot read {path}: {e.Message}");
        }
    }
}
