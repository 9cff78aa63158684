namespace Passerelle.Bench.Infrastructure;

/// <summary>The measure shared by pingpong and stream: C connections each echoing one message at a time through a peer.</summary>
internal static class EchoLoopMeasure
{
    public const string Rate = "messages_per_s";
    public const string P50 = "p50_ms";
    public const string P99 = "p99_ms";
    public const string P999 = "p999_ms";
    public const string Failed = "failed_connections";

    /// <summary>Opens the connections, runs the loops on a thread of its own and returns the figures of the window.</summary>
    public static Task<Figures> RunAsync(ModeContext context, RunningPeer peer, int connections, byte[] payload, int opcode,
        TimeSpan warmup, TimeSpan duration, int readBufferBytes) =>
        Task.Factory.StartNew(() =>
        {
            var sockets = Enumerable.Range(0, connections).Select(i => new RawConnection(i)).ToArray();
            var driver = new EchoLoopDriver(payload, opcode);
            using var loop = new WebSocketLoop(peer.EndPoint, sockets, driver, readBufferBytes);
            driver.OpenAll(loop, sockets, concurrency: 64, TimeSpan.FromSeconds(60));
            CpuWindow? cpu = null;
            driver.Run(loop, sockets, warmup, duration, starts =>
            {
                if (starts)
                {
                    cpu = CpuWindow.Start(context, peer);
                }
                else
                {
                    cpu?.End();
                }
            });

            var figures = new Figures
            {
                [Rate] = driver.Messages / duration.TotalSeconds,
                [Failed] = driver.Failures,
            };
            var percentiles = driver.Samples.PercentilesMs(50, 99, 99.9);
            figures[P50] = percentiles[0];
            figures[P99] = percentiles[1];
            figures[P999] = percentiles[2];
            cpu?.AddTo(figures, driver.Messages);
            if (driver.Failures > 0)
            {
                Console.Error.WriteLine($"bench {context.Mode}: {Peers.Name(peer.Peer)}: {driver.Failures} of {connections} connections failed; first: {driver.FirstFailure}");
            }

            return figures;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
