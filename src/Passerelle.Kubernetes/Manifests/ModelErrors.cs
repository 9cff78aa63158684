using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// Words a failure to decode an object into its model type as the field that is wrong and what it should be:
/// <c>spec.ports[0].port</c>, <c>expected an integer, got "abc"</c>.
/// </summary>
internal static partial class ModelErrors
{
    /// <summary>Whether <paramref name="error"/> is one the decoder throws for a value of the wrong type or form.</summary>
    public static bool IsDecodingError(Exception error) =>
        error is JsonException or NotSupportedException or FormatException or InvalidOperationException or ArgumentException or OverflowException;

    public static (string? Field, string Message) Describe(Exception error, Type modelType, JsonNode root)
    {
        var jsonPath = (error as JsonException)?.Path ?? PathInMessage(error.Message);
        var path = jsonPath is not null ? FieldPath.ParseJsonPath(jsonPath) : ModelSchema.FindUnreadable(modelType, root);
        if (path is null || path.Count == 0)
        {
            return (null, "cannot be read: " + error.Message);
        }

        var node = FieldPath.Find(root, path);
        var type = ModelSchema.TypeAt(modelType, path);
        return (FieldPath.Render(path), Expected(type, node));
    }

    private static string Expected(Type? type, JsonNode? node)
    {
        var got = ValueText.Describe(node);
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        if ((type == typeof(int) || type == typeof(long)) && node is JsonValue { } value && value.GetValueKind() == JsonValueKind.Number
            && double.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && Math.Floor(number) == number)
        {
            var (min, max) = type == typeof(int) ? ((double)int.MinValue, (double)int.MaxValue) : (long.MinValue, long.MaxValue);
            if (number < min || number > max)
            {
                return $"expected an integer from {min:0} to {max:0}, got {got}";
            }
        }

        return Expectation(type) is { } expected ? $"expected {expected}, got {got}" : $"invalid value {got}";
    }

    private static string? Expectation(Type? type)
    {
        if (type is null)
        {
            return null;
        }

        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte))
        {
            return "an integer";
        }

        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return "a number";
        }

        if (type == typeof(bool))
        {
            return "true or false";
        }

        if (type == typeof(string))
        {
            return "a string";
        }

        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return "an RFC 3339 time such as 2024-01-31T12:00:00Z";
        }

        if (type == typeof(ResourceQuantity))
        {
            return "a quantity such as 250m, 2 or 1Gi";
        }

        if (type == typeof(IntOrString))
        {
            return "an integer or a string";
        }

        if (type == typeof(byte[]))
        {
            return "base64 text";
        }

        if (ModelSchema.DictionaryValueType(type) is not null)
        {
            return "a mapping";
        }

        if (ModelSchema.ElementType(type) is not null)
        {
            return "a list";
        }

        return type.IsClass ? "a mapping" : null;
    }

    // System.Text.Json puts the path only in the message of the NotSupportedException it throws when a
    // converter refuses a token (KubernetesClient's IntOrString given true, for instance).
    private static string? PathInMessage(string message) =>
        PathPattern().Match(message) is { Success: true } match ? match.Groups[1].Value : null;

    [GeneratedRegex(@"Path: (\$.*?) \| LineNumber")]
    private static partial Regex PathPattern();
}
