using System.Text.Json.Nodes;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// The runtime settings the gateway ships with (its <c>passerelle.runtimeconfig.json</c>). They change what an open
/// WebSocket costs and how soon code is optimised, which no functional test would notice: <c>bench/run.sh hold</c>
/// and <c>churn</c> measure their effect (docs/data-path.md).
/// </summary>
public sealed class RuntimeConfigTests
{
    private static JsonNode Properties()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "passerelle.runtimeconfig.json");
        var config = JsonNode.Parse(File.ReadAllText(file)) ?? throw new InvalidDataException($"{file} is empty");
        return config["runtimeOptions"]?["configProperties"] ?? throw new InvalidDataException($"{file}: no runtimeOptions.configProperties");
    }

    [Fact]
    public void TheGcIsWorkstationWithBackgroundCollections()
    {
        var properties = Properties();

        // With background collections off, the first generation's budget may grow to 200 MiB while WebSockets open,
        // and that garbage stays resident (5-7 KiB of RSS per idle WebSocket against about 3).
        Assert.NotEqual(false, properties["System.GC.Concurrent"]?.GetValue<bool>());
        Assert.NotEqual(true, properties["System.GC.Server"]?.GetValue<bool>());
    }

    [Fact]
    public void CallsAreCountedForTierOneFromTheStart()
    {
        Assert.Equal(0, Properties()["System.Runtime.TieredCompilation.CallCountingDelayMs"]?.GetValue<int>());
    }
}
