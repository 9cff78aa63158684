using System.Net;
using System.Net.Sockets;

namespace Passerelle.EndToEnd.Tests.Infrastructure;

/// <summary>The <c>passerelle</c> executable run as a user runs it, as a separate process.</summary>
internal static class PasserelleProcess
{
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "passerelle.dll");

    public static Task<(int ExitCode, string Output, string StandardOutput)> RunAsync(params string[] arguments) =>
        ExternalProcess.RunCapturingAsync(TimeSpan.FromSeconds(60), "dotnet", [Dll, .. arguments]);

    public static ExternalProcess Start(params string[] arguments) => ExternalProcess.Start("dotnet", [Dll, .. arguments]);

    /// <summary>Started with at most <paramref name="openFiles"/> open file descriptors (util-linux's prlimit).</summary>
    public static ExternalProcess StartWithFileLimit(int openFiles, params string[] arguments) =>
        ExternalProcess.Start("prlimit", [$"--nofile={openFiles}:{openFiles}", "dotnet", Dll, .. arguments]);

    /// <summary>A port free on 127.0.0.1 right now, for a child process that must be told its port.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
