using System.Globalization;

namespace Passerelle.EndToEnd.Tests.Infrastructure;

/// <summary>
/// tests/browser/chat.mjs and what it runs on: Node.js, Debian's Chromium and the npm package playwright-core.
/// A missing program fails the test with the command that installs it: a browser test skipped in silence
/// would look like a browser test that passes.
/// </summary>
internal static class BrowserDriver
{
    public const string Chromium = "/usr/bin/chromium";

    private const int MinimumNodeMajorVersion = 20; // playwright-core's own "engines" requirement

    public static string Folder => Path.Combine(GatewayUnderTest.RepositoryRoot, "tests", "browser");

    public static string ChatScript => Path.Combine(Folder, "chat.mjs");

    /// <summary>Checks for Chromium and Node.js, then runs <c>npm ci</c> in tests/browser unless it is up to date.</summary>
    public static async Task EnsureReadyAsync()
    {
        var missing = new List<string>();
        if (!File.Exists(Chromium))
        {
            missing.Add($"Chromium at {Chromium}: apt-get update && apt-get install -y --no-install-recommends chromium");
        }

        var node = await NodeMajorVersionAsync();
        if (node is null || node < MinimumNodeMajorVersion || !OnPath("npm"))
        {
            missing.Add($"Node.js {MinimumNodeMajorVersion} or later and npm on PATH (found: " +
                (node is null ? "no node" : $"node {node}") + (OnPath("npm") ? "" : ", no npm") +
                $"); Debian 12's own nodejs package is 18, too old for playwright-core");
        }

        if (missing.Count > 0)
        {
            throw new InvalidOperationException("The browser test needs " + string.Join("; and ", missing) +
                ". test.sh installs them before running the tests.");
        }

        await NpmCiAsync();
    }

    // npm ci deletes and reinstalls node_modules, so it runs only when the lock file is newer than the last install.
    private static async Task NpmCiAsync()
    {
        var lockFile = Path.Combine(Folder, "package-lock.json");
        var installed = Path.Combine(Folder, "node_modules", ".package-lock.json");
        if (File.Exists(installed) && File.GetLastWriteTimeUtc(installed) >= File.GetLastWriteTimeUtc(lockFile) &&
            File.Exists(Path.Combine(Folder, "node_modules", "playwright-core", "package.json")))
        {
            return;
        }

        var (exitCode, output) = await ExternalProcess.RunAsync(TimeSpan.FromMinutes(5),
            "npm", "ci", "--prefix", Folder, "--no-audit", "--no-fund");
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"npm ci in {Folder} failed with exit code {exitCode}:\n{output}");
        }
    }

    private static async Task<int?> NodeMajorVersionAsync()
    {
        if (!OnPath("node"))
        {
            return null;
        }

        // "v20.20.2"
        var (exitCode, output) = await ExternalProcess.RunAsync(TimeSpan.FromSeconds(30), "node", "--version");
        var version = output.Trim().TrimStart('v').Split('.')[0];
        return exitCode == 0 && int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : null;
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, program)));
}
