using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// Field paths as diagnostics show them and <see cref="Passerelle.Model.Objects.ObjectOrigin.FieldLines"/> keys
/// them: <c>spec.rules[0].host</c>, and <c>metadata.annotations[kubernetes.io/ingress.class]</c> for a name that
/// holds dots or slashes. Also reads System.Text.Json's paths (<c>$.spec.ports[0]</c>, <c>$['a.b']</c>), so
/// that a deserialisation error lands on the same key as the line recorded for that field.
/// </summary>
internal static class FieldPath
{
    public static string Property(string parent, string name)
    {
        if (NeedsBrackets(name))
        {
            return $"{parent}[{name}]";
        }

        return parent.Length == 0 ? name : $"{parent}.{name}";
    }

    public static string Item(string parent, int index) => $"{parent}[{index.ToString(CultureInfo.InvariantCulture)}]";

    public static string Render(IEnumerable<PathSegment> segments) =>
        segments.Aggregate("", (path, segment) => segment.Name is { } name ? Property(path, name) : Item(path, segment.Index));

    /// <summary>Parses a System.Text.Json path such as <c>$.spec.ports[0]['x.y']</c>.</summary>
    public static IReadOnlyList<PathSegment> ParseJsonPath(string jsonPath)
    {
        var segments = new List<PathSegment>();
        var i = jsonPath.StartsWith('$') ? 1 : 0;
        while (i < jsonPath.Length)
        {
            if (jsonPath[i] == '.')
            {
                var end = jsonPath.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? jsonPath.Length : end;
                segments.Add(PathSegment.Property(jsonPath[(i + 1)..end]));
                i = end;
            }
            else if (jsonPath.AsSpan(i).StartsWith("['"))
            {
                var end = jsonPath.IndexOf("']", i + 2, StringComparison.Ordinal);
                end = end < 0 ? jsonPath.Length : end;
                segments.Add(PathSegment.Property(jsonPath[(i + 2)..end]));
                i = end + 2;
            }
            else if (jsonPath[i] == '[')
            {
                var end = jsonPath.IndexOf(']', i + 1);
                end = end < 0 ? jsonPath.Length : end;
                if (!int.TryParse(jsonPath.AsSpan(i + 1, end - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    break;
                }

                segments.Add(PathSegment.Item(index));
                i = end + 1;
            }
            else
            {
                break;
            }
        }

        return segments;
    }

    public static string FromJsonPath(string jsonPath) => Render(ParseJsonPath(jsonPath));

    /// <summary>The node at <paramref name="segments"/> under <paramref name="root"/>, or null.</summary>
    public static JsonNode? Find(JsonNode? root, IEnumerable<PathSegment> segments)
    {
        var node = root;
        foreach (var segment in segments)
        {
            node = (node, segment.Name) switch
            {
                (JsonObject o, { } name) => o.TryGetPropertyValue(name, out var child) ? child : null,
                (JsonArray a, null) when segment.Index >= 0 && segment.Index < a.Count => a[segment.Index],
                _ => null,
            };
        }

        return node;
    }

    private static bool NeedsBrackets(string name)
    {
        if (name.Length == 0)
        {
            return true;
        }

        foreach (var c in name)
        {
            if (c is '.' or '/' or '[' or ']' or '\'' or '"' or '(' or ')' or '\\' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }
}
