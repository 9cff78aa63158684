using System.Text;
using Passerelle.Proxy.Splice;

namespace Passerelle.Proxy.Tests.Splice;

/// <summary>The backend's response head as the direct WebSocket path reads it.</summary>
public sealed class ResponseHeadTests
{
    [Fact]
    public void ReadsTheStatusReasonAndFieldsInOrder()
    {
        var head = Parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-A: 1\r\nx-a:  2 \r\n\r\n");

        Assert.Equal(101, head.Status);
        Assert.Equal("Switching Protocols", head.Reason);
        Assert.Equal(["Upgrade", "Connection", "X-A", "x-a"], head.Fields.Select(f => f.Key));
        Assert.Equal("1, 2", head.Get("x-A"));
        Assert.True(head.Lists("connection", "upgrade"));
        Assert.Null(head.Get("Sec-WebSocket-Accept"));
    }

    [Theory]
    [InlineData("HTTP/1.0 403 \r\n\r\n", 403, "")]
    [InlineData("HTTP/1.1 204\r\n\r\n", 204, "")]
    public void AcceptsAnEmptyOrMissingReason(string text, int status, string reason)
    {
        var head = Parse(text);
        Assert.Equal(status, head.Status);
        Assert.Equal(reason, head.Reason);
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n\r\n", "status line")]
    [InlineData("HTTP/2 200\r\n\r\n", "status line")]
    [InlineData("HTTP/1.1 20 OK\r\n\r\n", "status line")]
    [InlineData("HTTP/1.1 099 Low\r\n\r\n", "status line")]
    [InlineData("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "malformed header")]
    [InlineData("HTTP/1.1 200 OK\r\nName : space before colon\r\n\r\n", "malformed header")]
    [InlineData("HTTP/1.1 200 OK\r\nA: 1\r\n folded: continuation\r\n\r\n", "malformed header")]
    [InlineData("HTTP/1.1 200 OK\r\nBad(name): x\r\n\r\n", "malformed header")]
    public void RefusesWhatCouldBeReadTwoWays(string text, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => Parse(text));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void FindsTheEndOfTheHeadOnlyOnceTheEmptyLineIsThere()
    {
        var bytes = Encoding.Latin1.GetBytes("HTTP/1.1 101 OK\r\nA: 1\r\n\r\n\x81\x05hello");
        Assert.Equal(-1, ResponseHead.FindEnd(bytes.AsSpan(0, 20)));
        Assert.Equal(25, ResponseHead.FindEnd(bytes)); // 17 + 6 + 2: the frame after it is not part of the head
    }

    [Theory]
    [InlineData("Content-Length: 12", 12L)]
    [InlineData("Content-Length: 12, 12", 12L)]
    [InlineData("X-Other: 1", null)]
    public void ReadsTheContentLength(string field, long? expected) =>
        Assert.Equal(expected, BackendConnection.ContentLength(Parse($"HTTP/1.1 200 OK\r\n{field}\r\n\r\n")));

    [Theory]
    [InlineData("Content-Length: 12, 13")]
    [InlineData("Content-Length: -1")]
    [InlineData("Content-Length: 0x10")]
    public void RefusesAContentLengthThatCouldBeReadTwoWays(string field) =>
        Assert.Throws<InvalidDataException>(() => BackendConnection.ContentLength(Parse($"HTTP/1.1 200 OK\r\n{field}\r\n\r\n")));

    private static ResponseHead Parse(string text)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        return ResponseHead.Parse(bytes.AsSpan(0, ResponseHead.FindEnd(bytes)));
    }
}
