using System.Text.Json.Nodes;

namespace Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;

/// <summary>The field selectors every kind supports: <c>metadata.name=X</c> and <c>metadata.namespace=Y</c>, comma-separated.</summary>
internal sealed class FieldSelector
{
    private readonly List<(string Field, string Value)> _terms = [];

    public static FieldSelector Parse(string? text)
    {
        var selector = new FieldSelector();
        foreach (var term in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = term.Split('=', 2);
            selector._terms.Add((parts[0].Trim(), parts[1].Trim()));
        }

        return selector;
    }

    public bool Matches(JsonObject item) => _terms.All(t => t.Field switch
    {
        "metadata.name" => (string?)item["metadata"]?["name"] == t.Value,
        "metadata.namespace" => (string?)item["metadata"]?["namespace"] == t.Value,
        _ => throw new NotSupportedException($"field selector {t.Field}"),
    });
}
