using System.Text;

namespace Passerelle.Proxy.Splice;

/// <summary>
/// The text of an HTTP head built once per WebSocket handshake, in both directions: one builder per thread, reused,
/// and the bytes taken from it directly, so that a handshake allocates its head's bytes and nothing else for it.
/// </summary>
internal static class HeadBuilder
{
    [ThreadStatic]
    private static StringBuilder? t_builder;

    /// <summary>An empty builder for this thread; the caller finishes with <see cref="ToLatin1"/> before anything else uses it.</summary>
    public static StringBuilder Acquire()
    {
        var builder = t_builder ??= new StringBuilder(1024);
        builder.Clear();
        return builder;
    }

    /// <summary>
    /// The builder's text as Latin-1 bytes (the values it holds were accepted with no CR, LF or NUL; Latin-1 keeps an
    /// obs-text byte as it came). A builder grown past 8 KiB by an unusual head is not kept.
    /// </summary>
    public static byte[] ToLatin1(StringBuilder builder)
    {
        var bytes = new byte[builder.Length];
        var written = 0;
        foreach (var chunk in builder.GetChunks())
        {
            written += Encoding.Latin1.GetBytes(chunk.Span, bytes.AsSpan(written));
        }

        if (builder.Capacity > 8 * 1024)
        {
            t_builder = null;
        }

        return bytes;
    }
}
