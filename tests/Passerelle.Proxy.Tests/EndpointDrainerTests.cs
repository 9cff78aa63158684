using System.Collections.Concurrent;
using Passerelle.Model;
using Passerelle.Model.Health;
using Passerelle.Model.Objects;
using Passerelle.Proxy.Runtime;

namespace Passerelle.Proxy.Tests;

/// <summary>Which endpoints are drained, for how long, and that a returning endpoint is not closed.</summary>
public sealed class EndpointDrainerTests
{
    private readonly ConcurrentDictionary<string, (TimeSpan After, CancellationToken Token)> _closing = new();
    private readonly EndpointDrainer _drainer;

    public EndpointDrainerTests()
    {
        _drainer = new EndpointDrainer(new GatewayOptions { DrainTimeout = TimeSpan.FromSeconds(30) }, (endpoint, after, token) =>
        {
            _closing[endpoint] = (after, token);
            return Task.Delay(Timeout.Infinite, token);
        });
    }

    [Fact]
    public void ARemovedEndpointIsDrainedWithTheLongestTimeoutOfItsRoutesAndKeptOnesAreNot()
    {
        var before = Model(
            ("a.contoso.com", null, [Endpoint("127.0.0.2"), Endpoint("127.0.0.3")]),
            ("b.contoso.com", TimeSpan.FromSeconds(120), [Endpoint("127.0.0.3")]));
        var after = Model(
            ("a.contoso.com", null, [Endpoint("127.0.0.2")]),
            ("b.contoso.com", TimeSpan.FromSeconds(120), []));

        _drainer.Apply(before, after);

        Assert.Equal(["127.0.0.3:8888"], _closing.Keys);
        Assert.Equal(TimeSpan.FromSeconds(120), _closing["127.0.0.3:8888"].After);
        Assert.Equal(["127.0.0.3:8888"], _drainer.Draining);
    }

    [Fact]
    public void AnEndpointThatTurnsNotReadyOrTerminatingIsDrained()
    {
        var before = Model(("a.contoso.com", null, [Endpoint("127.0.0.2"), Endpoint("127.0.0.3"), Endpoint("127.0.0.4")]));
        var after = Model(("a.contoso.com", null, [Endpoint("127.0.0.2"), Endpoint("127.0.0.3") with { Ready = false },
            Endpoint("127.0.0.4") with { Ready = false, Terminating = true }]));

        _drainer.Apply(before, after);

        Assert.Equal(["127.0.0.3:8888", "127.0.0.4:8888"], _closing.Keys.Order());
        Assert.All(_closing.Values, c => Assert.Equal(TimeSpan.FromSeconds(30), c.After));
    }

    [Fact]
    public async Task AnEndpointThatComesBackBeforeTheDrainEndsIsNotClosed()
    {
        var with = Model(("a.contoso.com", null, [Endpoint("127.0.0.2"), Endpoint("127.0.0.3")]));
        var without = Model(("a.contoso.com", null, [Endpoint("127.0.0.2")]));

        _drainer.Apply(with, without);
        var token = _closing["127.0.0.3:8888"].Token;
        _drainer.Apply(without, with);

        Assert.True(token.IsCancellationRequested);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (_drainer.Draining.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Empty(_drainer.Draining);
    }

    [Fact]
    public void AnEndpointMovingBetweenPoolsIsNotDrained()
    {
        var before = Model(("a.contoso.com", null, [Endpoint("127.0.0.2")]));
        var after = Model(("b.contoso.com", null, [Endpoint("127.0.0.2")]));

        _drainer.Apply(before, after);

        Assert.Empty(_closing);
    }

    private static BackendEndpoint Endpoint(string address) => new(address, 8888, true);

    private static GatewayModel Model(params (string Host, TimeSpan? Drain, BackendEndpoint[] Endpoints)[] routes)
    {
        var pools = new Dictionary<string, BackendPool>();
        var rules = new List<RouteRule>();
        foreach (var (host, drain, endpoints) in routes)
        {
            var key = $"pool-{host}";
            pools[key] = new BackendPool(key, new ObjectRef("Service", "default", host), "80", endpoints, null, ProbeSpec.Default);
            rules.Add(new RouteRule(host, "/", PathMatch.Any, key, new RouteSettings(DrainTimeout: drain), new ObjectRef("Ingress", "default", host), "spec"));
        }

        return new GatewayModel(rules, null, pools, []);
    }
}
