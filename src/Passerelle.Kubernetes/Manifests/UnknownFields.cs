using System.Text.Json.Nodes;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// Finds the fields an object's model type does not have, as kubectl's strict field validation does
/// (<c>kubectl apply --validate=strict</c>, the API server's <c>fieldValidation=Strict</c>). The decoder ignores
/// such a field, so without a word a typo (<c>pathtype</c>, <c>servicename</c>) silently loses what it said.
/// One walk of the object as written, before any normalisation, so paths and lines are the user's own.
/// </summary>
internal static class UnknownFields
{
    /// <param name="root">The object as written.</param>
    /// <param name="modelType">The model type it decodes into.</param>
    /// <param name="olderFields">
    /// Fields of an older version of the kind that normalisation moves into the model's shape, by the model type
    /// they are written in: known although the model has no such property.
    /// </param>
    /// <param name="lines">The lines of the nodes of <paramref name="root"/>.</param>
    public static IReadOnlyList<UnknownField> Find(
        JsonObject root, Type modelType, IReadOnlyDictionary<Type, IReadOnlyDictionary<string, Type>>? olderFields, LineMap lines)
    {
        var found = new List<UnknownField>();
        Walk(root, modelType, [], olderFields, lines, found);
        return found;
    }

    private static void Walk(
        JsonNode? node,
        Type type,
        List<PathSegment> path,
        IReadOnlyDictionary<Type, IReadOnlyDictionary<string, Type>>? olderFields,
        LineMap lines,
        List<UnknownField> found)
    {
        switch (node)
        {
            // A map (labels, annotations, data, selector) takes any key; only its values have a shape.
            case JsonObject map when ModelSchema.DictionaryValueType(type) is { } valueType:
                foreach (var (name, child) in map)
                {
                    path.Add(PathSegment.Property(name));
                    Walk(child, valueType, path, olderFields, lines, found);
                    path.RemoveAt(path.Count - 1);
                }

                break;
            case JsonObject obj when ModelSchema.FieldsOf(type) is { } fields:
                var older = olderFields?.GetValueOrDefault(type);
                foreach (var (name, child) in obj)
                {
                    path.Add(PathSegment.Property(name));
                    if ((fields.GetValueOrDefault(name) ?? older?.GetValueOrDefault(name)) is not { } childType)
                    {
                        var known = older is null ? fields.Keys : fields.Keys.Concat(older.Keys);
                        found.Add(new UnknownField(FieldPath.Render(path), name, lines.LineOfKey(obj, name), FieldSuggestions.For(name, known)));
                    }
                    else if (!IsUnchecked(path))
                    {
                        Walk(child, childType, path, olderFields, lines, found);
                    }

                    path.RemoveAt(path.Count - 1);
                }

                break;
            case JsonArray array when ModelSchema.ElementType(type) is { } element:
                for (var i = 0; i < array.Count; i++)
                {
                    path.Add(PathSegment.Item(i));
                    Walk(array[i], element, path, olderFields, lines, found);
                    path.RemoveAt(path.Count - 1);
                }

                break;

            // Anything else is a scalar, or a value of the wrong shape that decoding reports as a type error.
        }
    }

    // Written by the cluster, not the user: a manifest saved with `kubectl get -o yaml` carries them, and
    // whatever they hold is not the user's intent.
    private static bool IsUnchecked(List<PathSegment> path) =>
        path is [{ Name: "status" }] or [{ Name: "metadata" }, { Name: "managedFields" }];
}
