using System.Runtime.CompilerServices;
using Passerelle.Kubernetes.Manifests;
using Passerelle.Model.Objects;
using Passerelle.Model.Text;
using Passerelle.Model.Translation;

namespace Passerelle.Model.Tests;

/// <summary>
/// Table tests of the translator, one YAML fixture per case: the objects go in, and what comes out (every
/// diagnostic and the routing table, as <c>passerelle check</c> prints them) must equal the case's
/// <c>.expected.txt</c>. To accept a deliberate change, run with PASSERELLE_UPDATE_GOLDEN=1 and review the diff.
/// </summary>
public sealed class TranslationGoldenTests
{
    private static readonly string FixtureFolder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Translation");

    public static TheoryData<string> Cases()
    {
        var cases = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(FixtureFolder, "*.yaml").Order(StringComparer.Ordinal))
        {
            cases.Add(Path.GetFileNameWithoutExtension(file));
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Translates(string name)
    {
        var actual = Translate(name);
        var expectedFile = Path.Combine(FixtureFolder, name + ".expected.txt");
        if (Environment.GetEnvironmentVariable("PASSERELLE_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(SourceFolder(), "Fixtures", "Translation", name + ".expected.txt"), actual);
            return;
        }

        Assert.True(File.Exists(expectedFile), $"{name}.expected.txt is missing; run with PASSERELLE_UPDATE_GOLDEN=1 to create it");
        Assert.Equal(File.ReadAllText(expectedFile), actual);
    }

    [Fact]
    public void EveryCaseHasAnExpectation()
    {
        Assert.NotEmpty(Cases());
        foreach (var file in Directory.EnumerateFiles(FixtureFolder, "*.yaml"))
        {
            Assert.True(File.Exists(Path.ChangeExtension(file, ".expected.txt")), $"no expectation for {Path.GetFileName(file)}");
        }
    }

    internal static string Translate(string name)
    {
        var parsed = ManifestParser.Parse(File.ReadAllText(Path.Combine(FixtureFolder, name + ".yaml")), name + ".yaml");
        var model = GatewayTranslator.Translate(new ObjectSet(parsed.Objects));
        return "# diagnostics\n" + DiagnosticsText.Format(parsed.Diagnostics.Concat(model.Diagnostics).ToList())
            + "# routes\n" + RoutingTableText.Format(model) + RoutingTableText.FormatSettings(model)
            + "# probes\n" + ProbesText.Format(model);
    }

    private static string SourceFolder([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
