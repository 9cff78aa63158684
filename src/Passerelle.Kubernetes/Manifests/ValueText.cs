using System.Text.Json;
using System.Text.Json.Nodes;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>Names a JSON value the way a message quotes what the user wrote: <c>"abc"</c>, <c>80</c>, <c>a list</c>.</summary>
internal static class ValueText
{
    public static string Describe(JsonNode? node) => node switch
    {
        null => "nothing",
        JsonObject => "a mapping",
        JsonArray => "a list",
        JsonValue value when value.GetValueKind() == JsonValueKind.String => $"\"{value.GetValue<string>()}\"",
        _ => node.ToJsonString(),
    };

    public static bool IsString(JsonNode? node, out string text)
    {
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            text = value.GetValue<string>();
            return true;
        }

        text = "";
        return false;
    }
}
