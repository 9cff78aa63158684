using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>Splits a file into its YAML documents (separated by <c>---</c>) and converts each to JSON.</summary>
internal static class YamlDocuments
{
    /// <summary>
    /// The file's non-empty documents. Throws <see cref="YamlDotNet.Core.YamlException"/> when the file is not
    /// valid YAML or cannot be expressed as JSON.
    /// </summary>
    public static IReadOnlyList<JsonDocumentRoot> Load(string text, LineMap lines)
    {
        var stream = new YamlStream();
        stream.Load(new DepthLimitedParser(new Parser(new StringReader(text)), YamlToJson.MaxDepth));

        // Aliases let a few lines expand into millions of nodes ("billion laughs"). Without aliases a file cannot
        // hold more nodes than characters, so that bound never rejects an honest file.
        var converter = new YamlToJson(lines, nodeBudget: Math.Max(100_000, text.Length));
        var documents = new List<JsonDocumentRoot>();
        foreach (var document in stream.Documents)
        {
            // kubectl skips empty documents (a trailing "---", or one holding only comments or "~").
            if (converter.Convert(document.RootNode) is { } root)
            {
                documents.Add(new JsonDocumentRoot(root, lines.LineOf(root) ?? 1));
            }
        }

        return documents;
    }
}
