using Passerelle.Proxy.Splice;

namespace Passerelle.Proxy.Tests.Splice;

/// <summary>The per-thread builder of handshake heads.</summary>
public sealed class HeadBuilderTests
{
    [Fact]
    public void EachHeadGetsItsOwnBytesAlthoughTheBuilderIsReused()
    {
        var first = HeadBuilder.ToLatin1(HeadBuilder.Acquire().Append("GET /a HTTP/1.1\r\n\r\n"));
        var second = HeadBuilder.ToLatin1(HeadBuilder.Acquire().Append("GET /bb HTTP/1.1\r\n\r\n"));

        Assert.Equal("GET /a HTTP/1.1\r\n\r\n"u8.ToArray(), first);
        Assert.Equal("GET /bb HTTP/1.1\r\n\r\n"u8.ToArray(), second);
    }

    [Fact]
    public void AHeadLargerThanTheBuildersChunksComesOutWholeAndAnObsTextByteAsItCame()
    {
        var value = new string('v', 20_000) + "\u00e9";
        var bytes = HeadBuilder.ToLatin1(HeadBuilder.Acquire().Append("X: ").Append(value).Append("\r\n"));

        Assert.Equal(3 + value.Length + 2, bytes.Length);
        Assert.Equal(0xE9, bytes[^3]);
        Assert.All(bytes[3..^3], b => Assert.Equal((byte)'v', b));

        // The next head on this thread is not affected by the large one.
        Assert.Equal("A: b\r\n"u8.ToArray(), HeadBuilder.ToLatin1(HeadBuilder.Acquire().Append("A: b\r\n")));
    }
}
