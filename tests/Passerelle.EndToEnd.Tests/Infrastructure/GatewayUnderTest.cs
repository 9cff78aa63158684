using System.Net;
using Microsoft.Extensions.Logging;
using Passerelle.Hosting;
using Passerelle.Proxy;

namespace Passerelle.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A gateway started in the test process exactly as <c>passerelle run</c> starts it, on free loopback ports,
/// serving a private folder of manifests that the test can edit while it runs.
/// </summary>
internal sealed class GatewayUnderTest : IAsyncDisposable
{
    private GatewayUnderTest(GatewayHost host, string folder, CapturedLogs logs)
    {
        Host = host;
        Folder = folder;
        Logs = logs;
    }

    public GatewayHost Host { get; }

    /// <summary>The watched folder of manifests.</summary>
    public string Folder { get; }

    public CapturedLogs Logs { get; }

    public int Port => Host.HttpPort;

    public Uri Http => new($"http://127.0.0.1:{Port}/");

    public Uri Admin => new($"http://127.0.0.1:{Host.AdminPort}/");

    public long Generation => Host.Snapshots.Generation;

    /// <summary>Starts a gateway on the manifests given as file name -> YAML.</summary>
    public static Task<GatewayUnderTest> StartAsync(IReadOnlyDictionary<string, string> manifests, Action<GatewayOptions>? configure = null)
    {
        var folder = Directory.CreateTempSubdirectory("passerelle-e2e-").FullName;
        foreach (var (name, yaml) in manifests)
        {
            File.WriteAllText(Path.Combine(folder, name), yaml);
        }

        return StartOnFolderAsync(folder, configure);
    }

    /// <summary>Starts a gateway on an existing folder (e.g. deploy/seed), copied so the test may edit it.</summary>
    public static Task<GatewayUnderTest> StartOnCopyOfAsync(string sourceFolder, Action<GatewayOptions>? configure = null)
    {
        var folder = Directory.CreateTempSubdirectory("passerelle-e2e-").FullName;
        foreach (var file in Directory.EnumerateFiles(sourceFolder))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        return StartOnFolderAsync(folder, configure);
    }

    private static async Task<GatewayUnderTest> StartOnFolderAsync(string folder, Action<GatewayOptions>? configure)
    {
        var options = new GatewayOptions { ListenAddress = IPAddress.Loopback, HttpPort = 0, AdminPort = 0 };
        configure?.Invoke(options);
        var logs = new CapturedLogs();
        var host = GatewayHost.Create(options, [folder], logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        await host.StartAsync();
        return new GatewayUnderTest(host, folder, logs);
    }

    /// <summary>Writes a manifest and waits until the gateway has looked at the folder again.</summary>
    public async Task WriteAsync(string name, string yaml, bool expectNewGeneration = true)
    {
        var before = Generation;
        var path = Path.Combine(Folder, name);
        var temp = path + ".tmp";
        await File.WriteAllTextAsync(temp, yaml);
        File.Move(temp, path, overwrite: true);
        if (expectNewGeneration)
        {
            await Eventually.TrueAsync(() => Generation > before, $"the gateway to apply {name}");
        }
    }

    /// <summary>The repository's root, for tests that use its manifests (deploy/seed) as users would.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Passerelle.slnx")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("cannot find the repository root");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        await Host.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
