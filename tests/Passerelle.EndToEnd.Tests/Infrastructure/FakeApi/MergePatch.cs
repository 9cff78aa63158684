using System.Text.Json.Nodes;

namespace Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;

/// <summary>JSON merge patch, RFC 7386: objects merge member by member, null removes, anything else (lists included) replaces.</summary>
internal static class MergePatch
{
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject members)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject o ? (JsonObject)o.DeepClone() : [];
        foreach (var (name, value) in members)
        {
            if (value is null)
            {
                result.Remove(name);
            }
            else
            {
                result[name] = Apply(result[name], value);
            }
        }

        return result;
    }
}
