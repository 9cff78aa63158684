using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>
/// Refuses YAML nested deeper than a limit before YamlDotNet builds its node tree: that builder recurses once
/// per level, and a few kilobytes of <c>[[[[...</c> would overflow the stack and end the whole process.
/// </summary>
internal sealed class DepthLimitedParser(IParser inner, int maxDepth) : IParser
{
    private int _depth;

    public ParsingEvent? Current => inner.Current;

    public bool MoveNext()
    {
        if (!inner.MoveNext())
        {
            return false;
        }

        switch (inner.Current)
        {
            case SequenceStart or MappingStart when ++_depth > maxDepth:
                throw new YamlException(inner.Current.Start, inner.Current.End, $"Nested more than {maxDepth} levels deep.");
            case SequenceEnd or MappingEnd:
                _depth--;
                break;
        }

        return true;
    }
}
