using System.Net;
using System.Text;

namespace Passerelle.EndToEnd.Tests.Infrastructure;

/// <summary>Small builders for the manifests tests write: a Service with its EndpointSlice, and Ingresses.</summary>
internal static class Manifests
{
    /// <summary>A Service (port 80) and the EndpointSlice a cluster would publish for pods at <paramref name="pods"/>.</summary>
    public static string Service(string name, IEnumerable<IPEndPoint> pods, IEnumerable<IPEndPoint>? notReady = null, string? selectApp = null)
    {
        var all = pods.Select(p => (p, true)).Concat((notReady ?? []).Select(p => (p, false))).ToList();
        var text = new StringBuilder($"""
            apiVersion: v1
            kind: Service
            metadata: {"{"}name: {name}{"}"}
            spec:
            {(selectApp is null ? "" : $"  selector: {{app: {selectApp}}}\n")}  ports: [{"{"}port: 80, targetPort: {all.FirstOrDefault().p?.Port ?? 8888}{"}"}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: {name}-slice
              labels: {"{"}kubernetes.io/service-name: {name}{"}"}
            addressType: IPv4
            ports: [{"{"}port: {all.FirstOrDefault().p?.Port ?? 8888}{"}"}]
            endpoints:

            """);
        foreach (var (pod, ready) in all)
        {
            text.Append($"  - addresses: [\"{pod.Address}\"]\n    conditions: {{ready: {(ready ? "true" : "false")}}}\n");
        }

        if (all.Count == 0)
        {
            text.Append("  []\n");
        }

        return text.ToString();
    }

    /// <summary>
    /// A Deployment whose pods (label app: <paramref name="app"/>) serve port 8888 with a readinessProbe httpGet on
    /// <paramref name="path"/>; <paramref name="probeFields"/> adds fields such as <c>periodSeconds: 1</c>.
    /// </summary>
    public static string DeploymentWithReadiness(string app, string path, params string[] probeFields) => $$$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: {{{app}}}}
        spec:
          selector: {matchLabels: {app: {{{app}}}}}
          template:
            metadata: {labels: {app: {{{app}}}}}
            spec:
              containers:
                - name: {{{app}}}
                  image: {{{app}}}
                  ports: [{containerPort: 8888}]
                  readinessProbe:
                    httpGet: {path: {{{path}}}, port: 8888}
        {{{string.Concat(probeFields.Select(f => $"            {f}\n"))}}}
        """;

    /// <summary>An Ingress of class azure/application-gateway routing <paramref name="host"/> (empty: any host) to a Service.</summary>
    public static string Ingress(string name, string host, string service, string path = "/", string pathType = "Prefix",
        IReadOnlyDictionary<string, string>? annotations = null)
    {
        var notes = new StringBuilder("    kubernetes.io/ingress.class: azure/application-gateway\n");
        foreach (var (key, value) in annotations ?? new Dictionary<string, string>())
        {
            notes.Append($"    {key}: \"{value}\"\n");
        }

        var hostLine = host.Length == 0 ? "" : $"host: {host}\n      ";
        return $"""
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata:
              name: {name}
              annotations:
            {notes.ToString().TrimEnd('\n')}
            spec:
              rules:
                - {hostLine}http:
                    paths:
                      - path: {path}
                        pathType: {pathType}
                        backend:
                          service:
                            name: {service}
                            port:
                              number: 80

            """;
    }
}
