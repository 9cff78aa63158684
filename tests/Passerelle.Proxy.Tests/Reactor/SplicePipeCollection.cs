namespace Passerelle.Proxy.Tests.Reactor;

/// <summary>
/// Tests that read the process-wide pipe pool and byte counter, or turn splicing off, run alone: a relay of another
/// test would take pipes from the pool or move the counter under them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SplicePipeCollection
{
    public const string Name = "Splice pipes";
}
