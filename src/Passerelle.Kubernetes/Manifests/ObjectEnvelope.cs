using System.Text.Json.Nodes;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// The fields that identify any Kubernetes object, read before its kind is known. kubectl refuses an object
/// without apiVersion, kind or metadata.name, so such a document is reported and skipped.
/// </summary>
internal sealed record ObjectEnvelope(string ApiVersion, string Kind, string Name, string? Namespace)
{
    private const string Required = "every Kubernetes object needs apiVersion, kind and metadata.name";

    /// <summary>The envelope, or null after adding to <paramref name="problems"/> each field that is wrong.</summary>
    public static ObjectEnvelope? Read(JsonObject obj, List<(string Field, string Message)> problems)
    {
        var apiVersion = RequiredString(obj, "apiVersion", "apiVersion", problems);
        var kind = RequiredString(obj, "kind", "kind", problems);

        string? name = null;
        string? ns = null;
        obj.TryGetPropertyValue("metadata", out var metadataNode);
        if (metadataNode is JsonObject metadata)
        {
            name = RequiredString(metadata, "name", "metadata.name", problems);
            ns = OptionalString(metadata, "namespace", "metadata.namespace", problems);
        }
        else if (metadataNode is null)
        {
            problems.Add(("metadata.name", "missing; " + Required));
        }
        else
        {
            problems.Add(("metadata", $"expected a mapping, got {ValueText.Describe(metadataNode)}"));
        }

        return apiVersion is null || kind is null || name is null || problems.Count > 0
            ? null
            : new ObjectEnvelope(apiVersion, kind, name, ns);
    }

    private static string? RequiredString(JsonObject parent, string key, string field, List<(string, string)> problems)
    {
        parent.TryGetPropertyValue(key, out var node);
        if (node is null)
        {
            problems.Add((field, "missing; " + Required));
            return null;
        }

        if (!ValueText.IsString(node, out var text))
        {
            problems.Add((field, $"expected a string, got {ValueText.Describe(node)}"));
            return null;
        }

        if (text.Length == 0)
        {
            problems.Add((field, "empty; " + Required));
            return null;
        }

        return text;
    }

    private static string? OptionalString(JsonObject parent, string key, string field, List<(string, string)> problems)
    {
        parent.TryGetPropertyValue(key, out var node);
        if (node is null)
        {
            return null;
        }

        if (!ValueText.IsString(node, out var text))
        {
            problems.Add((field, $"expected a string, got {ValueText.Describe(node)}"));
            return null;
        }

        // kubectl treats an empty namespace as no namespace.
        return text.Length == 0 ? null : text;
    }
}
