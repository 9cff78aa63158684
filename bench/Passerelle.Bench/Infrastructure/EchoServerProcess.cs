using System.Net;

namespace Passerelle.Bench.Infrastructure;

/// <summary>
/// The Go echo backend (bench/EchoServer, gorilla/websocket), built by bench/run.sh, started by a mode on the bench
/// process's core (it inherits the pinning): one backend for every peer and run of the mode.
/// </summary>
internal sealed class EchoServerProcess : IAsyncDisposable
{
    private readonly ExternalProcess _process;

    private EchoServerProcess(ExternalProcess process, IPEndPoint endPoint, string command)
    {
        _process = process;
        EndPoint = endPoint;
        Command = command;
    }

    public IPEndPoint EndPoint { get; }

    public int ProcessId => _process.ProcessId;

    public string Command { get; }

    public static async Task<EchoServerProcess> StartAsync(FileInfo binary, string logPath)
    {
        if (!binary.Exists)
        {
            throw new BenchException($"no echo backend at {Peers.Relative(binary.FullName)}: bench/run.sh builds it (go build ./bench/EchoServer)");
        }

        var endPoint = new IPEndPoint(IPAddress.Loopback, GatewayProcess.FreePort());
        var process = ExternalProcess.Start([binary.FullName, "-listen", endPoint.ToString()], logPath);
        try
        {
            await process.WaitListeningAsync(endPoint.Port, TimeSpan.FromSeconds(15));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return new EchoServerProcess(process, endPoint, Peers.Relative(process.CommandLine));
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
