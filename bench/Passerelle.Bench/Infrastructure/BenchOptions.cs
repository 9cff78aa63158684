using System.CommandLine;

namespace Passerelle.Bench.Infrastructure;

/// <summary>The options every mode has: which gateway to run and where the report goes.</summary>
internal sealed class BenchOptions
{
    public Option<FileInfo> Gateway { get; } = new("--gateway")
    {
        Description = "The built gateway to run (dotnet PATH run ...).",
        HelpName = "PATH",
        DefaultValueFactory = _ => new FileInfo(Path.Combine(RepositoryRoot, "src", "Passerelle", "bin", "Release", "net10.0", "passerelle.dll")),
    };

    public Option<DirectoryInfo> Results { get; } = new("--results")
    {
        Description = "Folder of the reports (YYYY-MM-DD-MODE.md); bulky raw data goes to its tmp/ subfolder.",
        HelpName = "DIR",
        DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(RepositoryRoot, "bench", "results")),
    };

    /// <summary>The folder holding Passerelle.slnx, found upwards from the working directory, then from the executable.</summary>
    public static string RepositoryRoot { get; } = FindRoot(Environment.CurrentDirectory) ?? FindRoot(AppContext.BaseDirectory) ?? Environment.CurrentDirectory;

    public void AddTo(Command command)
    {
        command.Options.Add(Gateway);
        command.Options.Add(Results);
    }

    private static string? FindRoot(string start)
    {
        for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Passerelle.slnx")))
            {
                return folder.FullName;
            }
        }

        return null;
    }
}
