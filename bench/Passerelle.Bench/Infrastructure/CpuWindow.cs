using System.Net;

namespace Passerelle.Bench.Infrastructure;

/// <summary>
/// CPU used over a measured window: by the proxy's process, by the client (the bench process and the children it
/// waited for, such as wrk) and by the echo
/// backend, and how busy each core was. CPU time per operation is the fairest figure on a shared 2-core machine:
/// it does not depend on which side saturated first.
/// </summary>
internal sealed class CpuWindow
{
    private readonly int? _proxy;
    private readonly int _backend;
    private readonly double _proxyStart;
    private readonly double _clientStart;
    private readonly double _backendStart;
    private readonly (long Busy, long Total)[] _coresStart;
    private double[] _cores = [];
    private double _clientSeconds;
    private double _backendSeconds;

    private CpuWindow(int? proxy, int backend)
    {
        _proxy = proxy;
        _backend = backend;
        _proxyStart = proxy is { } pid ? ProcFs.CpuSeconds(pid) : 0;
        _clientStart = ProcFs.CpuSeconds(Environment.ProcessId, withChildren: true);
        _backendStart = ProcFs.CpuSeconds(backend);
        _coresStart = ProcFs.CoreTimes();
    }

    public static CpuWindow Start(ModeContext context, RunningPeer peer) => new(peer.ProxyPid, context.Backend.ProcessId);

    /// <summary>CPU seconds the proxy used from the start to the end of the window (NaN: no proxy).</summary>
    public double ProxySeconds { get; private set; }

    /// <summary>Ends the window: the readings are taken now.</summary>
    public void End()
    {
        _cores = ProcFs.BusyPercent(_coresStart, ProcFs.CoreTimes());
        ProxySeconds = _proxy is { } pid ? ProcFs.CpuSeconds(pid) - _proxyStart : double.NaN;
        _clientSeconds = ProcFs.CpuSeconds(Environment.ProcessId, withChildren: true) - _clientStart;
        _backendSeconds = ProcFs.CpuSeconds(_backend) - _backendStart;
    }

    /// <summary>Adds the CPU microseconds per operation (proxy, load side) and each core's busy percent to <paramref name="figures"/>.</summary>
    public void AddTo(Figures figures, double operations)
    {
        figures[Figure.ProxyCpu] = operations > 0 ? ProxySeconds * 1e6 / operations : double.NaN;
        figures[Figure.ClientCpu] = operations > 0 ? _clientSeconds * 1e6 / operations : double.NaN;
        figures[Figure.BackendCpu] = operations > 0 ? _backendSeconds * 1e6 / operations : double.NaN;
        figures[Figure.Core0] = _cores.ElementAtOrDefault(0);
        figures[Figure.Core1] = _cores.ElementAtOrDefault(1);
    }

}

/// <summary>Client source addresses: connection i binds 127.0.(1 + i/250 % 250).(1 + i%250), so no address runs short of ports.</summary>
internal static class SourceAddresses
{
    public static IPAddress For(long i) => new([127, 0, (byte)(1 + (i / 250 % 250)), (byte)(1 + (i % 250))]);
}

/// <summary>Round-trip times in Stopwatch ticks, kept in a preallocated array that grows by doubling (no allocation per sample).</summary>
internal sealed class LatencySamples(int capacity = 1 << 20)
{
    private long[] _ticks = new long[capacity];

    public int Count { get; private set; }

    public void Add(long ticks)
    {
        if (Count == _ticks.Length)
        {
            Array.Resize(ref _ticks, _ticks.Length * 2);
        }

        _ticks[Count++] = ticks;
    }

    /// <summary>Nearest-rank percentiles, in milliseconds.</summary>
    public double[] PercentilesMs(params double[] percents)
    {
        if (Count == 0)
        {
            return [.. percents.Select(_ => double.NaN)];
        }

        Array.Sort(_ticks, 0, Count);
        return [.. percents.Select(p => _ticks[Math.Clamp((int)Math.Ceiling(p / 100 * Count) - 1, 0, Count - 1)] * 1000.0 / System.Diagnostics.Stopwatch.Frequency)];
    }
}
