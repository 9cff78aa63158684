using System.CommandLine;
using Passerelle.Bench.Modes;

// One verb per benchmark mode; bench/README.md describes them.
var root = new RootCommand(
    "Passerelle's benchmarks. Each mode starts what it measures on loopback, runs the real gateway as users do, " +
    "and writes a Markdown report to bench/results/.")
{
    PropagationMode.Create(),
    PingPongMode.Create(),
    StreamMode.Create(),
    HoldMode.Create(),
    HttpMode.Create(),
    ChurnMode.Create(),
    SummaryMode.Create(),
};

// On Ctrl+C a mode stops its gateway with SIGTERM, which must not be cut short.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });
