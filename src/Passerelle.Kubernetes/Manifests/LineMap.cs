using System.Text.Json.Nodes;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// The source line of each JSON node converted from YAML. Keyed by node identity rather than by path, so a node
/// moved while normalising (a legacy Ingress's <c>serviceName</c> becoming <c>service.name</c>) keeps its line
/// and is found under its new path.
/// </summary>
internal sealed class LineMap
{
    private readonly Dictionary<JsonNode, int> _lines = new(ReferenceEqualityComparer.Instance);

    // A key with an empty value (`pathtype:`) has no node to key its line by, so those few are kept by their
    // mapping and name: an unknown field is reported at its key even when it holds nothing.
    private readonly Dictionary<JsonObject, Dictionary<string, int>> _emptyKeys = new(ReferenceEqualityComparer.Instance);

    public void Record(JsonNode node, int line) => _lines[node] = line;

    public void RecordEmptyKey(JsonObject mapping, string name, int line)
    {
        if (!_emptyKeys.TryGetValue(mapping, out var keys))
        {
            _emptyKeys[mapping] = keys = new Dictionary<string, int>(StringComparer.Ordinal);
        }

        keys[name] = line;
    }

    public int? LineOf(JsonNode? node) => node is not null && _lines.TryGetValue(node, out var line) ? line : null;

    /// <summary>The line of the key <paramref name="name"/> of <paramref name="mapping"/>, whether or not it holds a value.</summary>
    public int? LineOfKey(JsonObject mapping, string name)
    {
        if (mapping.TryGetPropertyValue(name, out var value) && value is not null)
        {
            return LineOf(value);
        }

        return _emptyKeys.TryGetValue(mapping, out var keys) && keys.TryGetValue(name, out var line) ? line : null;
    }

    /// <summary>Field path to line for every node under <paramref name="root"/>, paths relative to it.</summary>
    public IReadOnlyDictionary<string, int> FieldLinesOf(JsonNode root)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        Collect(root, "", result);
        return result;
    }

    private void Collect(JsonNode? node, string path, Dictionary<string, int> result)
    {
        if (node is null)
        {
            return;
        }

        if (path.Length > 0 && _lines.TryGetValue(node, out var line))
        {
            result[path] = line;
        }

        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    Collect(child, FieldPath.Property(path, name), result);
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Collect(array[i], FieldPath.Item(path, i), result);
                }

                break;
        }
    }
}
