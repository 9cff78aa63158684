using System.Globalization;
using System.Text.Json.Nodes;
using k8s.Models;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// Rewrites an <c>extensions/v1beta1</c> or <c>networking.k8s.io/v1beta1</c> Ingress into the
/// <c>networking.k8s.io/v1</c> shape, as the API server's conversion did: <c>spec.backend</c> becomes
/// <c>spec.defaultBackend</c>, <c>{serviceName, servicePort}</c> becomes <c>{service: {name, port}}</c>, and
/// a path without pathType gets ImplementationSpecific (the v1beta1 default). Moved values keep their nodes, so
/// their lines are found under the new paths.
/// </summary>
internal static class LegacyIngress
{
    /// <summary>
    /// The v1beta1 fields <see cref="Normalise"/> moves, by the v1 type they are written in. The v1 fields stay
    /// valid too, since normalising keeps them (a manifest half-way through its migration still loads).
    /// </summary>
    public static readonly IReadOnlyDictionary<Type, IReadOnlyDictionary<string, Type>> Fields = new Dictionary<Type, IReadOnlyDictionary<string, Type>>
    {
        [typeof(V1IngressSpec)] = new Dictionary<string, Type>(StringComparer.Ordinal) { ["backend"] = typeof(V1IngressBackend) },
        [typeof(V1IngressBackend)] = new Dictionary<string, Type>(StringComparer.Ordinal)
        {
            ["serviceName"] = typeof(string),
            ["servicePort"] = typeof(IntOrString),
        },
    };

    public static void Normalise(JsonObject ingress, LineMap lines)
    {
        if (ingress["spec"] is not JsonObject spec)
        {
            return;
        }

        if (!spec.ContainsKey("defaultBackend") && spec.Remove("backend", out var defaultBackend))
        {
            spec["defaultBackend"] = defaultBackend;
        }

        NormaliseBackend(spec["defaultBackend"], lines);

        foreach (var rule in (spec["rules"] as JsonArray ?? []).OfType<JsonObject>())
        {
            // Shapes that are wrong are left for decoding to report with their path.
            foreach (var path in ((rule["http"] as JsonObject)?["paths"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (path["pathType"] is null)
                {
                    var pathType = JsonValue.Create("ImplementationSpecific");
                    path["pathType"] = pathType;
                    RecordLike(lines, pathType, path);
                }

                NormaliseBackend(path["backend"], lines);
            }
        }
    }

    private static void NormaliseBackend(JsonNode? node, LineMap lines)
    {
        if (node is not JsonObject backend || !(backend.ContainsKey("serviceName") || backend.ContainsKey("servicePort")))
        {
            return;
        }

        backend.Remove("serviceName", out var name);
        backend.Remove("servicePort", out var port);

        var service = new JsonObject();
        RecordLike(lines, service, name ?? backend);
        if (name is not null)
        {
            service["name"] = name;
        }

        if (port is not null)
        {
            var servicePort = new JsonObject();
            RecordLike(lines, servicePort, port);
            var (field, value) = PortField(port);
            RecordLike(lines, value, port);
            servicePort[field] = value;
            service["port"] = servicePort;
        }

        backend["service"] = service;
    }

    // servicePort was an IntOrString. A string of digits counted as the number, as the API server took it;
    // any other string is a port name. Anything else goes under "number", where decoding reports its type.
    private static (string Field, JsonNode Value) PortField(JsonNode port)
    {
        if (ValueText.IsString(port, out var text))
        {
            return text.Length > 0 && text.All(char.IsAsciiDigit) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                ? ("number", JsonValue.Create(number))
                : ("name", port);
        }

        return ("number", port);
    }

    private static void RecordLike(LineMap lines, JsonNode node, JsonNode source)
    {
        if (lines.LineOf(source) is { } line)
        {
            lines.Record(node, line);
        }
    }
}
