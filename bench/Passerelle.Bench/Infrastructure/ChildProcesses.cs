using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;

namespace Passerelle.Bench.Infrastructure;

/// <summary>Ending what a benchmark started: child processes, and client sockets whose close is not measured.</summary>
internal static class ChildProcesses
{
    /// <summary>SIGTERM, as Kubernetes stops a pod; killed with its children if it has not exited within <paramref name="grace"/>.</summary>
    public static async Task StopAsync(Process process, TimeSpan grace)
    {
        if (process.HasExited)
        {
            return;
        }

        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
            kill?.WaitForExit(5000);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No kill command: the fallback below stops it.
        }

        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Closes a client WebSocket politely if it is open, within <paramref name="timeout"/>, ignoring failures.</summary>
    public static async Task CloseQuietlyAsync(ClientWebSocket? socket, TimeSpan timeout)
    {
        if (socket is null)
        {
            return;
        }

        try
        {
            if (socket.State == WebSocketState.Open)
            {
                using var deadline = new CancellationTokenSource(timeout);
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, deadline.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // Closing is not measured.
        }
        finally
        {
            socket.Dispose();
        }
    }
}
