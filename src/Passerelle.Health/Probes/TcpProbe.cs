using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Passerelle.Model;
using Passerelle.Model.Health;

namespace Passerelle.Health.Probes;

/// <summary>The weakest probe: something accepts TCP connections on the probe port.</summary>
internal static class TcpProbe
{
    public static async Task<ProbeResult> RunAsync(BackendEndpoint endpoint, ProbeSpec probe, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var port = ProbeTargets.Port(endpoint, probe);
        var what = $"TCP connect to port {port}";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(probe.Timeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(endpoint.Address), port), timeout.Token);
            return new ProbeResult(true, ProbeMode.Tcp, $"{what} -> accepted", Stopwatch.GetElapsedTime(started), DateTimeOffset.UtcNow);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeResult(false, ProbeMode.Tcp, $"{what} -> no answer within {probe.Timeout.TotalSeconds:0.###} s",
                Stopwatch.GetElapsedTime(started), DateTimeOffset.UtcNow);
        }
        catch (SocketException e)
        {
            return new ProbeResult(false, ProbeMode.Tcp, $"{what} -> {ConnectionErrors.Describe(e)}", Stopwatch.GetElapsedTime(started), DateTimeOffset.UtcNow);
        }
    }
}
