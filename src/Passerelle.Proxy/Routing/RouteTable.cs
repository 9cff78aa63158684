using Passerelle.Model;

namespace Passerelle.Proxy.Routing;

/// <summary>
/// Host and path matching with Kubernetes Ingress semantics, compiled once per snapshot and read lock-free.
/// A request host selects one rule set: the exact host, else the closest <c>*.suffix</c> wildcard (one label,
/// as Kubernetes defines it), else the rules without host. Within the set the longest matching path wins and an
/// exact path beats a prefix of the same length. With no match the default backend answers, if there is one.
/// Like ingress-nginx and AGIC's per-host listeners, a host that has rules never falls through to the rules of
/// other hosts.
/// </summary>
internal sealed class RouteTable<TRoute> where TRoute : class
{
    private readonly Dictionary<string, PathRules> _exactHosts;
    private readonly Dictionary<string, PathRules> _wildcardHosts;
    private readonly PathRules? _anyHost;
    private readonly TRoute? _default;

    public RouteTable(IEnumerable<(RouteRule Rule, TRoute Route)> routes, TRoute? defaultRoute)
    {
        var byHost = routes.GroupBy(r => r.Rule.Host, StringComparer.OrdinalIgnoreCase).ToList();
        _exactHosts = byHost.Where(g => g.Key.Length > 0 && !g.Key.StartsWith("*.", StringComparison.Ordinal))
            .ToDictionary(g => g.Key.ToLowerInvariant(), g => new PathRules(g), StringComparer.Ordinal);
        _wildcardHosts = byHost.Where(g => g.Key.StartsWith("*.", StringComparison.Ordinal))
            .ToDictionary(g => g.Key[2..].ToLowerInvariant(), g => new PathRules(g), StringComparer.Ordinal);
        var any = byHost.FirstOrDefault(g => g.Key.Length == 0);
        _anyHost = any is null ? null : new PathRules(any);
        _default = defaultRoute;
    }

    public TRoute? Match(string host, string path)
    {
        var rules = RulesFor(NormaliseHost(host));
        return rules?.Match(path) ?? _default;
    }

    private PathRules? RulesFor(string host)
    {
        if (_exactHosts.TryGetValue(host, out var exact))
        {
            return exact;
        }

        // "*.contoso.com" matches "ws.contoso.com" but neither "contoso.com" nor "a.ws.contoso.com".
        var dot = host.IndexOf('.');
        if (dot > 0 && _wildcardHosts.TryGetValue(host[(dot + 1)..], out var wildcard))
        {
            return wildcard;
        }

        return _anyHost;
    }

    private static string NormaliseHost(string host)
    {
        // A fully qualified "ws.contoso.com." names the same host (RFC 1034 §3.1).
        if (host.EndsWith('.'))
        {
            host = host[..^1];
        }

        foreach (var c in host)
        {
            if (c is >= 'A' and <= 'Z')
            {
                return host.ToLowerInvariant();
            }
        }

        return host;
    }

    private sealed class PathRules
    {
        private readonly Dictionary<string, TRoute> _exact = new(StringComparer.Ordinal);
        private readonly (string Path, PathMatch Match, TRoute Route)[] _prefixes;
        private readonly TRoute? _any;

        public PathRules(IEnumerable<(RouteRule Rule, TRoute Route)> routes)
        {
            var prefixes = new List<(string, PathMatch, TRoute)>();
            foreach (var (rule, route) in routes)
            {
                switch (rule.Match)
                {
                    case PathMatch.Exact:
                        _exact.TryAdd(rule.Path, route);
                        break;
                    case PathMatch.Any:
                        _any ??= route;
                        break;
                    default:
                        prefixes.Add((rule.Path, rule.Match, route));
                        break;
                }
            }

            // Longest first; for equal length, the Kubernetes Prefix rule before AGIC's string prefix.
            _prefixes = prefixes.OrderByDescending(p => p.Item1.Length).ThenBy(p => p.Item2 == PathMatch.StringPrefix).ToArray();
        }

        public TRoute? Match(string path)
        {
            if (_exact.TryGetValue(path, out var exact))
            {
                return exact;
            }

            foreach (var (prefix, match, route) in _prefixes)
            {
                if (!path.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                // Kubernetes Prefix matches whole path elements: "/foo" matches "/foo/bar" but not "/foobar".
                if (match == PathMatch.StringPrefix || path.Length == prefix.Length || path[prefix.Length] == '/')
                {
                    return route;
                }
            }

            return _any;
        }
    }
}
