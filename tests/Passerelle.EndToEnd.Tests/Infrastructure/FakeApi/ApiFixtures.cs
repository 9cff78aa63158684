using System.Net;
using System.Text.Json.Nodes;

namespace Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;

/// <summary>
/// The objects of Fixtures/KubernetesApi, as a cluster's API server returns them (managed fields, status, uids and
/// all), and the one application they form: Ingress shop/web (class passerelle, host web.example.com) to Service
/// web port 80, target 8888, with its EndpointSlice, Pod and TLS Secret.
/// </summary>
internal static class ApiFixtures
{
    public const string Host = "web.example.com";

    public static JsonObject Load(string name) =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "KubernetesApi", name)))!;

    /// <summary>The web Service's EndpointSlice with one ready endpoint per address.</summary>
    public static JsonObject Slice(params IPEndPoint[] endpoints)
    {
        var slice = Load("endpointslice-web.json");
        var template = slice["endpoints"]![0]!;
        slice["endpoints"] = new JsonArray(endpoints.Select((e, i) =>
        {
            var endpoint = template.DeepClone();
            endpoint["addresses"] = new JsonArray(e.Address.ToString());
            endpoint["targetRef"]!["name"] = $"web-5c9d8f7b6d-{i}";
            return (JsonNode)endpoint;
        }).ToArray());
        return slice;
    }

    /// <summary>Puts the whole application in the server, its endpoints being <paramref name="backends"/>.</summary>
    public static void SeedWebApp(FakeApiServer server, params TestBackend[] backends)
    {
        server.Apply(Load("ingressclass-passerelle.json"));
        server.Apply(Load("service-web.json"));
        server.Apply(Slice(backends.Select(b => b.EndPoint).ToArray()));
        server.Apply(Load("pod-web.json"));
        server.Apply(Load("secret-web-tls.json"));
        server.Apply(Load("ingress-web.json"));
    }
}
