using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// The shape of the official model types (<c>k8s.Models</c>) as the JSON decoder sees them: which CLR type a
/// field path decodes into. Used to word a type error, to find the field when a converter fails without
/// saying where (KubernetesClient's quantity and time converters throw without a JSON path), and to tell the
/// fields a type has from unknown ones.
/// </summary>
internal static class ModelSchema
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyDictionary<string, Type>> PropertiesByType = new();
    private static readonly ConcurrentDictionary<Type, IReadOnlyDictionary<string, Type>?> FieldsByType = new();
    private static readonly ConcurrentDictionary<Type, Func<JsonNode, object?>> Readers = new();
    private static readonly MethodInfo ReadMethod =
        typeof(ModelSchema).GetMethod(nameof(Read), BindingFlags.NonPublic | BindingFlags.Static)!;

    public static Type? TypeAt(Type root, IEnumerable<PathSegment> path) => path.Aggregate((Type?)root, ChildType);

    public static Type? ChildType(Type? type, PathSegment segment)
    {
        if (type is null)
        {
            return null;
        }

        if (segment.Name is null)
        {
            return ElementType(type);
        }

        return DictionaryValueType(type) ?? PropertiesOf(type).GetValueOrDefault(segment.Name);
    }

    public static Type? DictionaryValueType(Type type) =>
        GenericArguments(type, typeof(IDictionary<,>)) is [var key, var value] && key == typeof(string) ? value : null;

    public static Type? ElementType(Type type) =>
        type == typeof(string) || type == typeof(byte[]) || DictionaryValueType(type) is not null
            ? null
            : GenericArguments(type, typeof(IEnumerable<>)) is [var element] ? element : null;

    /// <summary>
    /// The fields, by JSON name, of a model type written as a mapping of named fields; null for a type whose
    /// JSON is anything else: a scalar, a list, a map of arbitrary keys, a type with its own converter
    /// (IntOrString, ResourceQuantity) or one that is not a Kubernetes model at all (<c>object</c>, a JsonElement).
    /// </summary>
    public static IReadOnlyDictionary<string, Type>? FieldsOf(Type type) => FieldsByType.GetOrAdd(type, t =>
        t.Assembly == typeof(V1ObjectMeta).Assembly
        && t.IsClass
        && t.GetCustomAttribute<JsonConverterAttribute>() is null
        && DictionaryValueType(t) is null
        && ElementType(t) is null
        && PropertiesOf(t) is { Count: > 0 } fields
            ? fields
            : null);

    /// <summary>
    /// The path of the first value, in document order, that the decoder cannot read as its field's type; that
    /// is the one a whole-object decode stopped at, since it reads in order.
    /// </summary>
    public static IReadOnlyList<PathSegment>? FindUnreadable(Type type, JsonNode root)
    {
        var path = new List<PathSegment>();
        return FindUnreadable(type, root, path) ? path : null;
    }

    private static bool FindUnreadable(Type? type, JsonNode? node, List<PathSegment> path)
    {
        if (type is null || node is null)
        {
            return false;
        }

        var hasFields = DictionaryValueType(type) is not null || PropertiesOf(type).Count > 0;
        if (node is JsonObject obj && hasFields)
        {
            foreach (var (name, child) in obj)
            {
                path.Add(PathSegment.Property(name));
                if (FindUnreadable(ChildType(type, PathSegment.Property(name)), child, path))
                {
                    return true;
                }

                path.RemoveAt(path.Count - 1);
            }

            return false;
        }

        if (node is JsonArray array && ElementType(type) is { } element)
        {
            for (var i = 0; i < array.Count; i++)
            {
                path.Add(PathSegment.Item(i));
                if (FindUnreadable(element, array[i], path))
                {
                    return true;
                }

                path.RemoveAt(path.Count - 1);
            }

            return false;
        }

        try
        {
            Readers.GetOrAdd(type, t => ReadMethod.MakeGenericMethod(t).CreateDelegate<Func<JsonNode, object?>>())(node);
            return false;
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            return true;
        }
    }

    private static object? Read<T>(JsonNode node) => KubernetesJson.Deserialize<T>(node);

    private static IReadOnlyDictionary<string, Type> PropertiesOf(Type type) => PropertiesByType.GetOrAdd(type, t =>
        t.IsPrimitive || t == typeof(string) || !t.IsClass
            ? new Dictionary<string, Type>()
            : t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.GetIndexParameters().Length == 0)
                .GroupBy(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? p.Name, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.First().PropertyType, StringComparer.Ordinal));

    private static Type[]? GenericArguments(Type type, Type genericInterface)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == genericInterface)
        {
            return type.GetGenericArguments();
        }

        return type.GetInterfaces()
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == genericInterface)
            ?.GetGenericArguments();
    }
}
