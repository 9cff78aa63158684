using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary>The traffic port under a process's file-descriptor limit, with the gateway run as users run it.</summary>
public sealed class FrontDoorLimitsTests
{
    [Fact]
    public async Task AtItsOpenFileBudgetTheTrafficPortWaitsInsteadOfRunningOutAndServesAgainAfter()
    {
        await using var backend = await TestBackend.StartAsync("pod-0");
        var folder = Directory.CreateTempSubdirectory("passerelle-fd-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "app.yaml"),
                Manifests.Service("web", [backend.EndPoint]) + "---\n" + Manifests.Ingress("web", "", "web"));
            var (httpPort, adminPort) = (PasserelleProcess.FreePort(), PasserelleProcess.FreePort());
            await using var gateway = PasserelleProcess.StartWithFileLimit(400, "run", "-f", folder.FullName, "--http-port", $"{httpPort}",
                "--admin-port", $"{adminPort}", "--listen-address", "127.0.0.1");
            using var http = new HttpClient();
            await Eventually.TrueAsync(async () => (await http.GetAsync($"http://127.0.0.1:{adminPort}/readyz")).IsSuccessStatusCode,
                "/readyz to answer 200", TimeSpan.FromSeconds(30));

            // The budget: (400 - descriptors open at start - 64) / 2 connections, announced at start.
            await Eventually.TrueAsync(() => Budget(gateway.Output) > 0, "the traffic port's budget to be logged");
            var budget = Budget(gateway.Output);
            Assert.InRange(budget, 16, 168);

            // Connections that start a request and never finish it each hold a descriptor in the gateway: open them until
            // it stops accepting. (A connection that says nothing at all is not even accepted for a second or so: the
            // traffic port defers accepting until the first bytes, as nginx's "deferred" does.)
            var held = new List<TcpClient>();
            try
            {
                await Eventually.TrueAsync(async () =>
                {
                    for (var i = 0; i < 25; i++)
                    {
                        var client = new TcpClient();
                        await client.ConnectAsync(IPAddress.Loopback, httpPort);
                        held.Add(client);
                        await client.GetStream().WriteAsync("GET / HTTP/1.1\r\n"u8.ToArray());
                    }

                    Assert.True(held.Count < budget + 200, "the gateway never reached its connection limit");
                    return gateway.Output.Contains("[1206]", StringComparison.Ordinal);
                }, "the gateway to reach its connection limit", TimeSpan.FromSeconds(60));
            }
            finally
            {
                foreach (var client in held)
                {
                    client.Dispose();
                }
            }

            // Once the clients are gone, the same listener accepts again: a WebSocket crosses the gateway.
            await Eventually.TrueAsync(async () =>
            {
                using var socket = await WebSockets.ConnectAsync(new Uri($"http://127.0.0.1:{httpPort}"));
                return await socket.ReceiveTextAsync() == "hello from pod-0" && await socket.EchoAsync("after") == "after";
            }, "a WebSocket to cross the gateway again", TimeSpan.FromSeconds(30));

            // It never ran out: no failed accept, nothing failed for want of descriptors, one warning per stretch at the
            // limit, not one per connection (the clients that waited number 25 or more). The clients that left while
            // waiting in the backlog are accepted and closed after the first stretch; the port may be full again briefly
            // while the held connections' ends are still being read (a stretch ends only once a tenth of it is free).
            Assert.False(gateway.HasExited);
            Assert.Equal(0, Regex.Count(gateway.Output, @"\[1204\]"));
            Assert.DoesNotContain("Too many open files", gateway.Output, StringComparison.Ordinal);
            Assert.InRange(Regex.Count(gateway.Output, @"\[1206\]"), 1, 3);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static int Budget(string output) =>
        Regex.Match(output, @"\[1207\] .* up to (\d+) connections") is { Success: true } m ? int.Parse(m.Groups[1].Value) : 0;
}
