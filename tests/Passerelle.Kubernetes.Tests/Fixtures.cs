using Passerelle.Kubernetes.Manifests;

namespace Passerelle.Kubernetes.Tests;

/// <summary>Reads the YAML fixtures copied next to the test assembly.</summary>
internal static class Fixtures
{
    public static string Text(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    /// <summary>Parses a fixture, naming it in diagnostics by its bare file name.</summary>
    public static ManifestParseResult Parse(string name) => ManifestParser.Parse(Text(name), name);
}
