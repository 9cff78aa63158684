namespace Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;

/// <summary>
/// A request path of the Kubernetes API: <c>/api/v1/[namespaces/NS/]PLURAL[/NAME[/SUB]]</c> for the core group,
/// <c>/apis/GROUP/VERSION/...</c> for the others.
/// </summary>
internal sealed record FakeRoute(FakeResource Resource, string? Namespace, string? Name, string? Subresource)
{
    public static bool TryParse(string path, out FakeRoute route)
    {
        route = null!;
        var parts = path.Trim('/').Split('/');
        string group, version;
        int rest;
        if (parts is ["api", var v, ..])
        {
            (group, version, rest) = ("", v, 2);
        }
        else if (parts is ["apis", var g, var v2, ..])
        {
            (group, version, rest) = (g, v2, 3);
        }
        else
        {
            return false;
        }

        string? ns = null;
        if (parts.Length > rest + 2 && parts[rest] == "namespaces")
        {
            ns = parts[rest + 1];
            rest += 2;
        }

        if (parts.Length <= rest)
        {
            return false;
        }

        var resource = FakeResource.All.FirstOrDefault(r => r.Group == group && r.Version == version && r.Plural == parts[rest]);
        if (resource is null)
        {
            return false;
        }

        route = new FakeRoute(resource, ns, parts.Length > rest + 1 ? parts[rest + 1] : null, parts.Length > rest + 2 ? parts[rest + 2] : null);
        return true;
    }
}
