using System.Text.Json.Nodes;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// Gives <c>null</c> (an empty YAML value, <c>~</c>) the meaning Go's JSON decoding gives it in Kubernetes: a
/// field set to null is a field left unset, and a null in a map of strings (<c>labels: {a: }</c>) is "".
/// A null list item (a lone <c>-</c>) is reported rather than decoded, since every consumer of these lists
/// expects real items.
/// </summary>
internal static class KubernetesNulls
{
    /// <summary>Applies null semantics to <paramref name="root"/> and returns the paths of null list items.</summary>
    public static IReadOnlyList<string> Apply(JsonObject root, Type modelType)
    {
        var emptyItems = new List<string>();
        Apply(root, modelType, "", emptyItems);
        return emptyItems;
    }

    private static void Apply(JsonNode? node, Type? type, string path, List<string> emptyItems)
    {
        switch (node)
        {
            case JsonObject obj:
                var valueType = type is null ? null : ModelSchema.DictionaryValueType(type);
                foreach (var name in obj.Select(p => p.Key).ToArray())
                {
                    if (obj[name] is not null)
                    {
                        Apply(obj[name], ModelSchema.ChildType(type, PathSegment.Property(name)), FieldPath.Property(path, name), emptyItems);
                    }
                    else if (valueType == typeof(string))
                    {
                        obj[name] = "";
                    }
                    else
                    {
                        obj.Remove(name);
                    }
                }

                break;
            case JsonArray array:
                var element = type is null ? null : ModelSchema.ElementType(type);
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is null)
                    {
                        emptyItems.Add(FieldPath.Item(path, i));
                    }
                    else
                    {
                        Apply(array[i], element, FieldPath.Item(path, i), emptyItems);
                    }
                }

                break;
        }
    }
}
