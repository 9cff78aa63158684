using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// Converts a YAML node tree to JSON, as Kubernetes does (sigs.k8s.io/yaml turns YAML into JSON and decodes
/// that), recording in a <see cref="LineMap"/> the line of every node: a mapping value gets the line of its
/// key, so <c>backend:</c> followed by an indented block points at the <c>backend:</c> line.
/// Problems that make a document impossible to express as JSON are thrown as <see cref="YamlException"/>,
/// because kubectl rejects such a file just as it rejects a syntax error.
/// </summary>
internal sealed class YamlToJson(LineMap lines, int nodeBudget)
{
    /// <summary>Far deeper than any Kubernetes object; it only stops runaway recursion.</summary>
    public const int MaxDepth = 256;

    private readonly HashSet<YamlNode> _open = new(ReferenceEqualityComparer.Instance);
    private int _budget = nodeBudget;

    /// <summary>The document as JSON, or null when the document is empty.</summary>
    public JsonNode? Convert(YamlNode root)
    {
        var json = Convert(root, 0);
        if (json is not null)
        {
            lines.Record(json, LineOf(root.Start));
        }

        return json;
    }

    private JsonNode? Convert(YamlNode node, int depth)
    {
        if (--_budget < 0)
        {
            throw new YamlException(node.Start, node.End, "The document is too large once its aliases are expanded.");
        }

        if (node is YamlScalarNode scalar)
        {
            return YamlScalar.ToJson(scalar);
        }

        if (depth > MaxDepth)
        {
            throw new YamlException(node.Start, node.End, $"Nested more than {MaxDepth} levels deep.");
        }

        // YamlDotNet resolves an alias to the anchored node itself, so an anchor used inside its own value
        // (a: &x [*x]) is a cycle; go-yaml rejects it too.
        if (!_open.Add(node))
        {
            throw new YamlException(node.Start, node.End, "An alias refers to a node that contains it.");
        }

        try
        {
            return node switch
            {
                YamlSequenceNode sequence => ConvertSequence(sequence, depth),
                YamlMappingNode mapping => ConvertMapping(mapping, depth),
                _ => throw new YamlException(node.Start, node.End, "Unsupported YAML node."),
            };
        }
        finally
        {
            _open.Remove(node);
        }
    }

    private JsonArray ConvertSequence(YamlSequenceNode sequence, int depth)
    {
        var array = new JsonArray();
        foreach (var child in sequence.Children)
        {
            var item = Convert(child, depth + 1);
            if (item is not null)
            {
                lines.Record(item, LineOf(child.Start));
            }

            array.Add(item);
        }

        return array;
    }

    private JsonObject ConvertMapping(YamlMappingNode mapping, int depth)
    {
        var result = new JsonObject();
        var merged = new List<YamlNode>();
        foreach (var (key, value) in mapping.Children)
        {
            if (key is YamlScalarNode { Value: "<<", Style: ScalarStyle.Plain })
            {
                merged.Add(value);
                continue;
            }

            var name = KeyText(key);
            if (result.ContainsKey(name))
            {
                // YamlDotNet already rejects repeated keys; this catches keys that differ only in YAML (80 and "80").
                throw new YamlException(key.Start, key.End, $"Duplicate key {name}");
            }

            var json = Convert(value, depth + 1);
            if (json is not null)
            {
                lines.Record(json, LineOf(key.Start));
            }
            else
            {
                lines.RecordEmptyKey(result, name, LineOf(key.Start));
            }

            result[name] = json;
        }

        // The YAML merge key (<<: *defaults), which go-yaml supports and so kubectl accepts: keys written in the
        // mapping win over merged ones, and earlier merged mappings win over later ones.
        foreach (var source in merged)
        {
            var sources = source is YamlSequenceNode list ? list.Children : (IEnumerable<YamlNode>)[source];
            foreach (var part in sources)
            {
                if (Convert(part, depth + 1) is not JsonObject from)
                {
                    throw new YamlException(part.Start, part.End, "A merge key (<<) takes a mapping or a list of mappings.");
                }

                foreach (var name in from.Select(p => p.Key).ToArray())
                {
                    if (!result.ContainsKey(name) && from.Remove(name, out var moved))
                    {
                        result[name] = moved;
                        if (moved is null && lines.LineOfKey(from, name) is { } line)
                        {
                            lines.RecordEmptyKey(result, name, line);
                        }
                    }
                }
            }
        }

        return result;
    }

    private static int LineOf(Mark mark) => (int)Math.Clamp(mark.Line, 1, int.MaxValue);

    // JSON object keys are strings; sigs.k8s.io/yaml writes scalar keys such as 80 or true as their text.
    private static string KeyText(YamlNode key) => key is YamlScalarNode scalar
        ? scalar.Value ?? ""
        : throw new YamlException(key.Start, key.End, "A mapping key must be a scalar, not a list or a mapping.");
}
