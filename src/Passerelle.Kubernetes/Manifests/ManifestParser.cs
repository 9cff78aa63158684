using Passerelle.Model.Diagnostics;
using YamlDotNet.Core;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// Reads the text of one manifest file as <c>kubectl apply -f</c> would: every YAML (or JSON) document in it,
/// lists flattened, the kinds Passerelle uses decoded into the official Kubernetes model types, each object
/// with the file and lines it came from. Pure: no I/O, the same text always gives the same result.
/// </summary>
public static class ManifestParser
{
    /// <param name="text">The whole file.</param>
    /// <param name="file">The path diagnostics show, as the user typed it.</param>
    public static ManifestParseResult Parse(string text, string file)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);

        var lines = new LineMap();
        IReadOnlyList<JsonDocumentRoot> documents;
        try
        {
            documents = YamlDocuments.Load(text, lines);
        }
        catch (YamlException error)
        {
            // Like kubectl, which applies nothing from a file it cannot parse: a half-read file would silently
            // drop whatever follows the error, so the file as a whole is unreadable.
            return new ManifestParseResult(false, [], [YamlErrorText.ToDiagnostic(error, file)]);
        }

        var reader = new ManifestObjectReader(file, lines);
        foreach (var document in documents)
        {
            reader.ReadDocument(document.Root, document.Line);
        }

        return new ManifestParseResult(true, reader.Objects, reader.Diagnostics);
    }
}
