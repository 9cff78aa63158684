using System.Text;


namespace Passerelle.Model.Text;

/// <summary>
/// The routing table as a person reads it, one line per route, most specific first: exact hosts, then
/// wildcard hosts, then the rules for any host; within a host exact paths, then prefixes longest first.
/// </summary>
public static class RoutingTableText
{
    public static string Format(GatewayModel model)
    {
        var rows = new List<string[]> { new[] { "HOST", "PATH", "MATCH", "BACKEND", "ENDPOINTS", "FROM" } };
        var ordered = model.Routes
            .OrderBy(r => r.Host.Length == 0 ? 2 : r.Host.StartsWith("*.", StringComparison.Ordinal) ? 1 : 0)
            .ThenBy(r => r.Host, StringComparer.Ordinal)
            .ThenBy(r => r.Match switch { PathMatch.Exact => 0, PathMatch.Any => 2, _ => 1 })
            .ThenByDescending(r => r.Path.Length)
            .ThenBy(r => r.Path, StringComparer.Ordinal);
        foreach (var route in ordered)
        {
            rows.Add(Row(model, route, route.Host.Length == 0 ? "*" : route.Host));
        }

        if (model.DefaultRoute is { } fallback)
        {
            rows.Add(Row(model, fallback, "(default backend)"));
        }

        if (rows.Count == 1)
        {
            return "No routes.\n";
        }

        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.AppendLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
        }

        return text.ToString();
    }

    /// <summary>One line per route whose annotations change how it is forwarded; empty when none does.</summary>
    public static string FormatSettings(GatewayModel model)
    {
        var text = new StringBuilder();
        foreach (var route in model.Routes.Append(model.DefaultRoute).OfType<RouteRule>().Where(r => r.Settings != RouteSettings.Default))
        {
            var s = route.Settings;
            var parts = new List<string>();
            if (s.RequestTimeout is { } request)
            {
                parts.Add($"request timeout {request.TotalSeconds:0.###}s");
            }

            if (s.WebSocketIdleTimeout is { } idle)
            {
                parts.Add($"websocket idle timeout {idle.TotalSeconds:0.###}s");
            }

            if (s.DrainTimeout is { } drain)
            {
                parts.Add($"connection draining {drain.TotalSeconds:0.###}s");
            }

            if (s.BackendPathPrefix is { } prefix)
            {
                parts.Add($"backend path prefix {prefix}");
            }

            if (s.BackendHostname is { } host)
            {
                parts.Add($"backend host {host}");
            }

            if (s.BackendProtocol is { } protocol)
            {
                parts.Add($"backend protocol {protocol}");
            }

            text.Append($"{(route.Host.Length == 0 ? "*" : route.Host)} {route.Path} ({route.Source}): {string.Join(", ", parts)}\n");
        }

        return text.ToString();
    }

    private static string[] Row(GatewayModel model, RouteRule route, string host)
    {
        var pool = model.Pools[route.PoolKey];
        var endpoints = pool.Endpoints.Count == 0
            ? $"none: {pool.Problem}"
            : string.Join(", ", pool.Endpoints.Select(e => e.Ready ? e.ToString() : $"{e} (not ready)"));
        var path = route.Match switch
        {
            PathMatch.Any => "/*",
            PathMatch.StringPrefix => route.Path + "*",
            _ => route.Path,
        };
        var match = route.Match switch
        {
            PathMatch.Any => "any",
            PathMatch.Exact => "exact",
            PathMatch.Prefix => "prefix",
            _ => "string-prefix",
        };
        return [host, path, match, $"{pool.Service.Namespace}/{pool.Service.Name}:{pool.ServicePort}", endpoints, route.Source.ToString()];
    }
}
