using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Passerelle.Proxy.Tunnels;
using static Passerelle.Proxy.Tests.Tunnels.TestFrames;

namespace Passerelle.Proxy.Tests.Tunnels;

/// <summary>The registry of proxied WebSockets and the close of a tunnel, on in-memory sides.</summary>
public sealed class UpgradedConnectionsTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public void ATunnelCountsOnceBothSidesAreUpgradedAndUntilTheForwarderIsDone()
    {
        var connections = NewConnections();
        var tunnel = new FakeTunnel(connections, "10.0.0.1:8080", attach: false);
        Assert.Equal(0, connections.Count);

        tunnel.Tunnel.AttachClient(tunnel.ClientWire);
        Assert.Equal(0, connections.Count);
        tunnel.Tunnel.AttachBackend(tunnel.BackendWire);
        Assert.Equal(1, connections.Count);
        Assert.Equal(1, connections.CountFor("10.0.0.1:8080"));
        Assert.Equal(0, connections.CountFor("10.0.0.2:8080"));

        var other = new FakeTunnel(connections, "10.0.0.2:8080");
        Assert.Equal(2, connections.Count);

        tunnel.Tunnel.End();
        other.Tunnel.End();
        Assert.Equal(0, connections.Count);
        Assert.Equal(0, connections.CountFor("10.0.0.1:8080"));
        Assert.True(tunnel.Tunnel.Completion.IsCompleted);
    }

    [Fact]
    public async Task ClosingAnEndpointSendsACloseBothWaysAndAbortsWhatDoesNotEndWithinTheGrace()
    {
        var connections = NewConnections();
        connections.CloseGrace = TimeSpan.FromMilliseconds(200);
        var polite = new FakeTunnel(connections, "10.0.0.1:8080");
        var stubborn = new FakeTunnel(connections, "10.0.0.1:8080");
        var elsewhere = new FakeTunnel(connections, "10.0.0.9:8080");

        var closing = connections.CloseAsync("10.0.0.1:8080", WebSocketCloseStatus.EndpointUnavailable, TimeSpan.Zero, TimeSpan.Zero);

        // The polite one ends as a peer that answers the Close would make it end.
        await WaitForAsync(() => polite.ClientWire.Written.Length > 0);
        polite.Tunnel.End();
        await closing.WaitAsync(Deadline);

        foreach (var tunnel in new[] { polite, stubborn })
        {
            var toClient = Assert.Single(Decode(tunnel.ClientWire.Written));
            Assert.Equal((Close, false, 1001, UpgradedConnections.EndpointReason), (toClient.Opcode, toClient.Masked, toClient.CloseCode, toClient.CloseReason));
            var toBackend = Assert.Single(Decode(tunnel.BackendWire.Written));
            Assert.Equal((Close, true, 1001, UpgradedConnections.EndpointReason), (toBackend.Opcode, toBackend.Masked, toBackend.CloseCode, toBackend.CloseReason));
        }

        Assert.False(polite.Aborted);
        Assert.True(stubborn.Aborted);
        Assert.Empty(elsewhere.ClientWire.Written);
        Assert.False(elsewhere.Aborted);
    }

    [Fact]
    public async Task TheDrainTimeoutCanBeCancelledAndThenNothingIsClosed()
    {
        var connections = NewConnections();
        var tunnel = new FakeTunnel(connections, "10.0.0.1:8080");
        using var endpointBack = new CancellationTokenSource();

        var closing = connections.CloseAsync("10.0.0.1:8080", WebSocketCloseStatus.EndpointUnavailable, TimeSpan.FromHours(1), TimeSpan.Zero, endpointBack.Token);
        Assert.False(closing.IsCompleted);
        endpointBack.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => closing.WaitAsync(Deadline));
        Assert.Empty(tunnel.ClientWire.Written);
        Assert.Equal(1, connections.Count);
    }

    [Fact]
    public async Task ClosesAreSpreadEvenlyAndTunnelsThatEndedMeanwhileAreSkipped()
    {
        var connections = NewConnections();
        connections.CloseGrace = TimeSpan.FromMilliseconds(100);
        var tunnels = Enumerable.Range(0, 5).Select(_ => new FakeTunnel(connections, "10.0.0.1:8080")).ToList();
        var start = Stopwatch.GetTimestamp();

        var closing = connections.CloseAsync("10.0.0.1:8080", WebSocketCloseStatus.EndpointUnavailable, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        await WaitForAsync(() => tunnels[0].ClientWire.Written.Length > 0);
        tunnels[4].Tunnel.End(); // its turn, at 0.8 s, has not come yet
        await closing.WaitAsync(Deadline);

        var offsets = tunnels.Take(4).Select(t => Stopwatch.GetElapsedTime(start, t.ClientWire.FirstWriteAt)).ToList();
        Assert.True(offsets[0] < TimeSpan.FromMilliseconds(400), $"the first close went out at {offsets[0]}");
        Assert.Equal(offsets.Order(), offsets);
        Assert.True(offsets[3] - offsets[0] >= TimeSpan.FromMilliseconds(500), $"closes at {string.Join(", ", offsets)}");
        Assert.Empty(tunnels[4].ClientWire.Written);
        Assert.False(tunnels[4].Aborted);
    }

    [Fact]
    public async Task CloseAllClosesEveryEndpointAndWhatOpensAfterwards()
    {
        var connections = NewConnections();
        connections.CloseGrace = TimeSpan.FromMilliseconds(100);
        var a = new FakeTunnel(connections, "10.0.0.1:8080");
        var b = new FakeTunnel(connections, "10.0.0.2:8080");

        await connections.CloseAllAsync(UpgradedConnections.ServiceRestart, TimeSpan.Zero).WaitAsync(Deadline);
        var late = new FakeTunnel(connections, "10.0.0.3:8080");
        await WaitForAsync(() => late.Aborted);

        foreach (var tunnel in new[] { a, b, late })
        {
            var close = Assert.Single(Decode(tunnel.BackendWire.Written));
            Assert.Equal(1012, close.CloseCode);
            Assert.Equal(UpgradedConnections.ShutdownReason, close.CloseReason);
        }
    }

    [Fact]
    public async Task AnAbortNeverReachesARequestTheForwarderIsDoneWith()
    {
        var connections = NewConnections();
        var tunnel = new FakeTunnel(connections, "10.0.0.1:8080");
        tunnel.Tunnel.End();

        await tunnel.Tunnel.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "", TimeSpan.Zero).WaitAsync(Deadline);
        Assert.False(tunnel.Aborted);
        Assert.Empty(tunnel.ClientWire.Written);
    }

    [Fact]
    public async Task CancellingATunnelsCloseAbortsIt()
    {
        var connections = NewConnections();
        var tunnel = new FakeTunnel(connections, "10.0.0.1:8080");
        using var hurry = new CancellationTokenSource();

        var closing = tunnel.Tunnel.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "", TimeSpan.FromHours(1), hurry.Token);
        await WaitForAsync(() => tunnel.ClientWire.Written.Length > 0 && tunnel.BackendWire.Written.Length > 0);
        hurry.Cancel();
        await closing.WaitAsync(Deadline);
        Assert.True(tunnel.Aborted);
    }

    [Theory]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(2000)]
    [InlineData(5000)]
    public async Task CodesThatMustNotBeSentAreRefused(int code)
    {
        var connections = NewConnections();
        Assert.Throws<ArgumentOutOfRangeException>(() => CloseFrame.Build((WebSocketCloseStatus)code, "", masked: false));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => connections.CloseAllAsync((WebSocketCloseStatus)code, TimeSpan.Zero));
    }

    [Fact]
    public void TheReasonIsCutToFitAControlFrameWithoutSplittingACharacter()
    {
        var reason = new string('é', 70); // 140 bytes in UTF-8
        var frame = Assert.Single(Decode(CloseFrame.Build(WebSocketCloseStatus.EndpointUnavailable, reason, masked: true)));
        Assert.Equal(new string('é', 61), frame.CloseReason); // 122 bytes: a 62nd would make 124
        Assert.True(frame.Payload.Length <= 125);

        var emoji = string.Concat(Enumerable.Repeat("😀", 40)); // 4 bytes each
        Assert.Equal(string.Concat(Enumerable.Repeat("😀", 30)),
            Assert.Single(Decode(CloseFrame.Build(UpgradedConnections.ServiceRestart, emoji, masked: false))).CloseReason);
        Assert.Equal(Encoding.UTF8.GetBytes("x"), Decode(CloseFrame.Build(WebSocketCloseStatus.NormalClosure, "x", masked: false))[0].Payload[2..]);
    }

    private static UpgradedConnections NewConnections() => new(NullLogger<UpgradedConnections>.Instance);

    private static Task WaitForAsync(Func<bool> condition) =>
        Task.Run(async () =>
        {
            while (!condition())
            {
                await Task.Delay(5);
            }
        }).WaitAsync(Deadline);

    /// <summary>A tunnel over in-memory sides, on a request whose abort is recorded.</summary>
    private sealed class FakeTunnel : IHttpRequestLifetimeFeature
    {
        public FakeTunnel(UpgradedConnections connections, string endpoint, bool attach = true)
        {
            var context = new DefaultHttpContext();
            context.Features.Set<IHttpRequestLifetimeFeature>(this);
            Tunnel = new WebSocketTunnel(connections, context, endpoint, "default/web", NullLogger.Instance);
            if (attach)
            {
                Tunnel.AttachClient(ClientWire);
                Tunnel.AttachBackend(BackendWire);
            }
        }

        public WebSocketTunnel Tunnel { get; }

        public WireStream ClientWire { get; } = new();

        public WireStream BackendWire { get; } = new();

        public bool Aborted { get; private set; }

        public CancellationToken RequestAborted { get; set; }

        public void Abort() => Aborted = true;
    }
}
