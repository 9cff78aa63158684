using System.Text.Json.Nodes;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// Flattens lists the way kubectl does (k8s.io/apimachinery's unstructured decoding): an object whose kind ends
/// in "List" and that has <c>items</c>, such as the <c>kind: List</c> that <c>kubectl get -o yaml</c> prints.
/// </summary>
internal static class ManifestLists
{
    public static bool IsList(JsonObject obj) =>
        obj.ContainsKey("items")
        && ValueText.IsString(obj["kind"], out var kind)
        && kind.EndsWith("List", StringComparison.Ordinal);

    /// <summary>
    /// Detaches the items from <paramref name="list"/>, so that each one's field paths start at its own root.
    /// An item of a typed list (ServiceList) that names neither apiVersion nor kind takes them from the list,
    /// as the API server leaves them out of such items.
    /// </summary>
    public static IReadOnlyList<JsonNode?> TakeItems(JsonArray items, JsonObject list)
    {
        var taken = items.ToList();
        items.Clear();

        var listKind = ValueText.IsString(list["kind"], out var kind) ? kind : "List";
        var itemKind = listKind[..^"List".Length];
        if (itemKind.Length > 0)
        {
            foreach (var item in taken.OfType<JsonObject>())
            {
                if (!item.ContainsKey("apiVersion") && !item.ContainsKey("kind"))
                {
                    item["apiVersion"] = list["apiVersion"]?.DeepClone();
                    item["kind"] = itemKind;
                }
            }
        }

        return taken;
    }
}
