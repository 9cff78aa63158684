using System.Text.Json;
using System.Text.RegularExpressions;
using Passerelle.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// <c>passerelle demo</c> as its welcome text invites: the chat page open in two browser windows, here two
/// headless Chromium contexts driven by tests/browser/chat.mjs. The demo's replicas listen on 127.0.0.2:8888 and
/// 127.0.0.3:8888, hence the collection shared with the other tests that use those addresses.
/// </summary>
[Collection(SeedPods.Collection)]
public sealed partial class BrowserTests(ITestOutputHelper output)
{
    /// <summary>Runs of chat.mjs allowed to end with both sockets on one replica (see below) before the test gives up.</summary>
    private const int MaxRuns = 4;

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Where the screenshots are kept after the run, for people and CI to look at.</summary>
    public static string Artifacts => Path.Combine(AppContext.BaseDirectory, "TestResults", "browser");

    [Fact]
    public async Task TwoBrowserWindowsOnDifferentReplicasSeeEachOthersMessages()
    {
        await BrowserDriver.EnsureReadyAsync();
        var (httpPort, adminPort) = (PasserelleProcess.FreePort(), PasserelleProcess.FreePort());
        await using var demo = PasserelleProcess.Start("demo", "--http-port", $"{httpPort}", "--admin-port", $"{adminPort}");
        await demo.WaitForOutputAsync("Passerelle demo is running", TimeSpan.FromSeconds(60));
        var url = $"http://localhost:{httpPort}/";
        Assert.Contains(url, demo.Output);

        // Each page names the replica that answered its /whoami, but /whoami and /ws are separate requests that
        // round robin may send to different replicas: the replicas' own "joined" lines tell where the sockets are.
        // When both ended up on one replica the run proved nothing about delivery across replicas: run again.
        JsonElement result;
        for (var run = 1; ; run++)
        {
            (result, var sockets) = await ChatAsync(demo, url, run);
            if (sockets[0] != sockets[^1])
            {
                break;
            }

            Assert.True(run < MaxRuns, $"in {MaxRuns} runs, the two pages' sockets always ended up on one replica");
        }

        var replicas = result.GetProperty("replicas");
        string[] names = [replicas.GetProperty("A").GetString()!, replicas.GetProperty("B").GetString()!];
        Assert.Equal(["websocket-server-0", "websocket-server-1"], names.Order());

        // Both ways: the replica that got each message had to deliver it to a socket on the other one.
        var crossed = result.GetProperty("crossed");
        Assert.StartsWith("hello from page A", crossed.GetProperty("AtoB").GetProperty("text").GetString());
        Assert.StartsWith("hello from page B", crossed.GetProperty("BtoA").GetProperty("text").GetString());

        var screenshots = result.GetProperty("screenshots").EnumerateArray().Select(s => s.GetString()!).ToArray();
        Assert.Equal(["chat.png", "page-a.png", "page-b.png"], screenshots.Select(s => Path.GetFileName(s)));
        foreach (var screenshot in screenshots)
        {
            Assert.Equal(Path.GetFullPath(Artifacts), Path.GetDirectoryName(Path.GetFullPath(screenshot)));
            var bytes = await File.ReadAllBytesAsync(screenshot);
            Assert.True(bytes.Length > 1000 && bytes.AsSpan(0, 8).SequenceEqual(PngSignature), $"{screenshot} is not a PNG screenshot");
        }

        demo.Signal("INT");
        await demo.WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Runs chat.mjs, which must succeed; returns its JSON result and the replica of each socket it opened, in
    /// order: page A's first, then page B's for each load of B, the last being the one that chatted.
    /// </summary>
    private async Task<(JsonElement Result, List<string> Sockets)> ChatAsync(ExternalProcess demo, string url, int run)
    {
        if (Directory.Exists(Artifacts))
        {
            Directory.Delete(Artifacts, recursive: true); // so that no screenshot of an earlier run can pass for this one's
        }

        var joinedBefore = Joins(demo.Output).Count;
        var (exitCode, all, standardOutput) = await ExternalProcess.RunCapturingAsync(TimeSpan.FromMinutes(3),
            "node", BrowserDriver.ChatScript, url, Artifacts);
        output.WriteLine($"run {run}: chat.mjs exited with {exitCode}; screenshots in {Artifacts}\n{all}");
        Assert.True(exitCode == 0,
            $"chat.mjs failed (exit code {exitCode}); screenshots in {Artifacts}; sockets joined (page A's first, " +
            $"page B's last): {string.Join(", ", Joins(demo.Output).Skip(joinedBefore))}\n{all}\n--- passerelle demo:\n{demo.Output}");

        var result = JsonDocument.Parse(standardOutput.Trim().Split('\n')[^1]).RootElement;
        Assert.True(result.GetProperty("ok").GetBoolean());
        var expected = 1 + result.GetProperty("loadsOfB").GetInt32();
        await Eventually.TrueAsync(() => Joins(demo.Output).Count >= joinedBefore + expected, "the replicas to log every socket's join");
        var sockets = Joins(demo.Output)[joinedBefore..];
        Assert.True(sockets.Count == expected, $"expected {expected} sockets to join (page A's, then page B's), got: {string.Join(", ", sockets)}");
        output.WriteLine($"run {run}: sockets joined {string.Join(", ", sockets)}");
        return (result, sockets);
    }

    /// <summary>The replica of each socket that joined a room, in order: ChatServer's event 2, "[replica] client joined; ...".</summary>
    private static List<string> Joins(string log) =>
        [.. JoinedLine().Matches(log).Select(m => m.Groups["replica"].Value)];

    [GeneratedRegex(@"\[(?<replica>[^\]]+)\] \S+ joined;")]
    private static partial Regex JoinedLine();
}
