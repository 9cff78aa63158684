using k8s.Models;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Objects;

namespace Passerelle.Model.Translation;

/// <summary>
/// The pure translation <c>(objects) -> (model, diagnostics)</c>. No I/O, no clock, no logging: everything a
/// user can get wrong becomes a <see cref="Diagnostic"/> naming the object and field, the offending part is
/// left out, and everything else is still built.
/// </summary>
public static class GatewayTranslator
{
    /// <param name="classes">Which Ingresses are Passerelle's; <see cref="IngressClassPolicy.Default"/> when null.</param>
    public static GatewayModel Translate(ObjectSet objects, IngressClassPolicy? classes = null)
    {
        var diagnostics = new List<Diagnostic>();
        var filter = new IngressClassFilter(objects, classes ?? IngressClassPolicy.Default);
        var backends = new BackendResolver(objects);
        var routes = new List<RouteRule>();
        var claimed = new Dictionary<(string Host, string Path, PathMatch Match), ObjectRef>();
        RouteRule? defaultRoute = null;

        // Oldest first, as Kubernetes controllers resolve conflicts: the Ingress that was there first keeps its rule.
        foreach (var source in objects.Ingresses.OrderBy(CreationTime).ThenBy(o => o.Ref.ToString(), StringComparer.Ordinal))
        {
            if (!filter.IsOurs(source, diagnostics))
            {
                continue;
            }

            var ingress = (V1Ingress)source.Object;
            var settings = IngressSettings.Read(source, diagnostics);

            if (ingress.Spec?.DefaultBackend is { } fallback)
            {
                var poolKey = backends.Resolve(source, null, null, fallback, "spec.defaultBackend", diagnostics);
                if (poolKey is not null)
                {
                    if (defaultRoute is null)
                    {
                        defaultRoute = new RouteRule("", "/", PathMatch.Any, poolKey, settings, source.Ref, "spec.defaultBackend");
                    }
                    else
                    {
                        diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Warning, "spec.defaultBackend",
                            $"ignored: {defaultRoute.Source} already sets the default backend and is older"));
                    }
                }
            }

            var rules = ingress.Spec?.Rules ?? [];
            for (var r = 0; r < rules.Count; r++)
            {
                var rule = rules[r];
                var ruleField = $"spec.rules[{r}]";
                var host = rule.Host ?? "";
                if (host.Length > 0 && IngressPaths.ValidateHost(host) is { } hostError)
                {
                    diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Error, ruleField + ".host", hostError + "; rule left out"));
                    continue;
                }

                var paths = rule.Http?.Paths ?? [];
                if (paths.Count == 0)
                {
                    diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Warning, ruleField,
                        "the rule has no http paths, so it routes nothing"));
                }

                for (var p = 0; p < paths.Count; p++)
                {
                    var pathField = $"{ruleField}.http.paths[{p}]";
                    var (match, path, pathError) = IngressPaths.Interpret(paths[p].Path, paths[p].PathType);
                    if (pathError is not null)
                    {
                        var field = pathError.Contains("pathType", StringComparison.Ordinal) ? pathField + ".pathType" : pathField + ".path";
                        diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Error, field, pathError + "; path left out"));
                        continue;
                    }

                    var poolKey = backends.Resolve(source, rule, paths[p], paths[p].Backend, pathField + ".backend", diagnostics);
                    if (poolKey is null)
                    {
                        continue;
                    }

                    if (claimed.TryGetValue((host, path, match), out var owner))
                    {
                        diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Warning, pathField,
                            $"ignored: host \"{(host.Length == 0 ? "*" : host)}\" path \"{path}\" is already routed by {owner}"
                            + (owner == source.Ref ? "" : ", which is older")));
                        continue;
                    }

                    claimed[(host, path, match)] = source.Ref;
                    routes.Add(new RouteRule(host, path, match, poolKey, settings, source.Ref, pathField));
                }
            }
        }

        return new GatewayModel(routes, defaultRoute, new Dictionary<string, BackendPool>(backends.Pools), diagnostics);
    }

    private static DateTime CreationTime(SourcedObject o) => o.Object.Metadata.CreationTimestamp ?? DateTime.MinValue;
}
