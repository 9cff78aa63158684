using Passerelle.Proxy.Tunnels;
using static Passerelle.Proxy.Tests.Tunnels.TestFrames;

namespace Passerelle.Proxy.Tests.Tunnels;

/// <summary>The frame tracker against every length encoding, masked or not, split in every way.</summary>
public sealed class FrameBoundaryTrackerTests
{
    // 7-bit (0, 1, 125), 16-bit (126, 127, 65535) and 64-bit (65536) length encodings.
    public static TheoryData<int, bool> Lengths()
    {
        var data = new TheoryData<int, bool>();
        foreach (var length in new[] { 0, 1, 125, 126, 127, 65535, 65536 })
        {
            data.Add(length, false);
            data.Add(length, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ByteByByteTheBoundaryIsReachedExactlyAtTheEndOfTheFrame(int length, bool masked)
    {
        var frame = Encode(Binary, Pattern(length), masked: masked);
        var tracker = new FrameBoundaryTracker();
        Assert.True(tracker.AtBoundary);

        for (var i = 0; i < frame.Length; i++)
        {
            tracker.Advance(frame.AsSpan(i, 1));
            Assert.Equal(i == frame.Length - 1, tracker.AtBoundary);
        }

        Assert.Equal(1, tracker.Frames);
        Assert.Equal(Binary, tracker.LastOpcode);
        Assert.True(tracker.LastFin);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void TheHeaderIsReadWhereverTheChunksSplitIt(int length, bool masked)
    {
        var frame = Encode(Text, Pattern(length), fin: false, masked: masked);
        var header = frame.Length - length;

        // Every pair of cut points within the header and the first payload byte: three chunks.
        for (var first = 0; first <= header + 1 && first <= frame.Length; first++)
        {
            for (var second = first; second <= header + 1 && second <= frame.Length; second++)
            {
                var tracker = new FrameBoundaryTracker();
                tracker.Advance(frame.AsSpan(0, first));
                tracker.Advance(frame.AsSpan(first, second - first));
                if (second >= header)
                {
                    Assert.Equal((ulong)(length - (second - header)), tracker.PayloadRemaining);
                }
                else
                {
                    Assert.Equal(0, tracker.Frames);
                }

                Assert.Equal(second == 0 || second == frame.Length, tracker.AtBoundary);
                tracker.Advance(frame.AsSpan(second));
                Assert.True(tracker.AtBoundary, $"split at {first} and {second} of a {length}-byte frame (masked: {masked})");
                Assert.Equal(1, tracker.Frames);
                Assert.False(tracker.LastFin);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void TwoChunksSplitAnywhereEndAtTheBoundaryAndNotBefore(int length, bool masked)
    {
        var frame = Encode(Binary, Pattern(length), masked: masked);
        for (var split = 0; split <= frame.Length; split++)
        {
            var tracker = new FrameBoundaryTracker();
            tracker.Advance(frame.AsSpan(0, split));
            Assert.Equal(split == 0 || split == frame.Length, tracker.AtBoundary);
            tracker.Advance(frame.AsSpan(split));
            Assert.True(tracker.AtBoundary);
        }
    }

    [Fact]
    public void SeveralFramesInOneChunkOfEveryEncoding()
    {
        var frames = new[] { 0, 1, 125, 126, 127, 65535, 65536, 70000 }
            .SelectMany((length, i) => new[] { Encode(Binary, Pattern(length, i), masked: false), Encode(Text, Pattern(length, i), masked: true) })
            .ToArray();
        var wire = frames.SelectMany(f => f).ToArray();

        var tracker = new FrameBoundaryTracker();
        tracker.Advance(wire);
        Assert.True(tracker.AtBoundary);
        Assert.Equal(frames.Length, tracker.Frames);

        // The same bytes stepped frame by frame: each step stops exactly at the next frame's end.
        tracker = new FrameBoundaryTracker();
        var at = 0;
        foreach (var frame in frames)
        {
            tracker.Advance(wire.AsSpan(at, 1));
            Assert.Equal(frame.Length - 1, tracker.AdvanceToBoundary(wire.AsSpan(at + 1)));
            Assert.True(tracker.AtBoundary);
            at += frame.Length;
        }

        Assert.Equal(wire.Length, at);
    }

    [Fact]
    public void ControlFramesBetweenFragmentsAreFramesOfTheirOwn()
    {
        var sequence = new (int Opcode, bool Fin, int Length)[]
        {
            (Text, false, 300), (Ping, true, 4), (Continuation, false, 70000), (Pong, true, 0),
            (Ping, true, 125), (Continuation, false, 0), (Continuation, true, 10), (Close, true, 2),
        };
        var frames = sequence.Select(s => Encode(s.Opcode, Pattern(s.Length), s.Fin, masked: s.Length % 2 == 0)).ToArray();
        var wire = frames.SelectMany(f => f).ToArray();

        var tracker = new FrameBoundaryTracker();
        var at = 0;
        foreach (var (frame, expected) in frames.Zip(sequence))
        {
            // In chunks of 7 bytes, checking the boundary after each.
            var end = at + frame.Length;
            while (at < end)
            {
                var chunk = Math.Min(7, end - at);
                tracker.Advance(wire.AsSpan(at, chunk));
                at += chunk;
                Assert.Equal(at == end, tracker.AtBoundary);
            }

            Assert.Equal(expected.Opcode, tracker.LastOpcode);
            Assert.Equal(expected.Fin, tracker.LastFin);
            Assert.Equal(expected.Opcode == Close, tracker.SawClose);
        }

        Assert.Equal(sequence.Length, tracker.Frames);
    }

    [Fact]
    public void AdvanceToBoundaryStopsWhereTheFrameEndsInsideAChunk()
    {
        var a = Encode(Binary, Pattern(1000), masked: true);
        var b = Encode(Text, Pattern(200));
        var wire = a.Concat(b).ToArray();
        var tracker = new FrameBoundaryTracker();

        tracker.Advance(wire.AsSpan(0, 500));
        Assert.Equal(a.Length - 500, tracker.AdvanceToBoundary(wire.AsSpan(500)));
        Assert.True(tracker.AtBoundary);

        // At a boundary nothing is consumed; a frame that does not end within the chunk takes all of it.
        Assert.Equal(0, tracker.AdvanceToBoundary(wire.AsSpan(a.Length)));
        tracker.Advance(wire.AsSpan(a.Length, 3));
        Assert.Equal(10, tracker.AdvanceToBoundary(wire.AsSpan(a.Length + 3, 10)));
        Assert.False(tracker.AtBoundary);
        Assert.Equal(b.Length - 13, tracker.AdvanceToBoundary(wire.AsSpan(a.Length + 13)));
        Assert.True(tracker.AtBoundary);
        Assert.Equal(2, tracker.Frames);
    }

    [Fact]
    public void A64BitLengthIsCountedInFull()
    {
        // 2^32 + 5 bytes: more than an int, so the tracker must count in 64 bits.
        var header = new byte[] { 0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 5, 1, 2, 3, 4 };
        var tracker = new FrameBoundaryTracker();
        tracker.Advance(header);
        Assert.Equal((1UL << 32) + 5, tracker.PayloadRemaining);

        var megabyte = new byte[1 << 20];
        for (var i = 0; i < 4096; i++)
        {
            tracker.Advance(megabyte);
        }

        Assert.Equal(5UL, tracker.PayloadRemaining);
        Assert.Equal(5, tracker.AdvanceToBoundary(megabyte));
        Assert.True(tracker.AtBoundary);
    }

    [Fact]
    public void RandomFramesInRandomChunksAgreeWithAWholeBufferParser()
    {
        var random = new Random(6455);
        for (var round = 0; round < 50; round++)
        {
            var frames = Enumerable.Range(0, random.Next(1, 30)).Select(_ =>
            {
                var length = random.Next(6) switch { 0 => 0, 1 => random.Next(1, 126), 2 => random.Next(126, 300), 3 => 65535, 4 => 65536, _ => random.Next(0, 3000) };
                return Encode(random.Next(3), Pattern(length, random.Next()), random.Next(2) == 0, random.Next(2) == 0);
            }).ToArray();
            var wire = frames.SelectMany(f => f).ToArray();
            var ends = new HashSet<int>(Decode(wire).Select(f => f.Offset).Skip(1).Append(wire.Length));

            var tracker = new FrameBoundaryTracker();
            var at = 0;
            while (at < wire.Length)
            {
                var chunk = Math.Min(wire.Length - at, random.Next(5) == 0 ? random.Next(1, 4) : random.Next(1, 5000));
                if (random.Next(2) == 0)
                {
                    tracker.Advance(wire.AsSpan(at, chunk));
                    at += chunk;
                }
                else
                {
                    at += tracker.AtBoundary ? Feed(ref tracker, wire.AsSpan(at, 1)) : tracker.AdvanceToBoundary(wire.AsSpan(at, chunk));
                }

                Assert.Equal(ends.Contains(at), tracker.AtBoundary);
            }

            Assert.Equal(frames.Length, tracker.Frames);
        }
    }

    private static int Feed(ref FrameBoundaryTracker tracker, ReadOnlySpan<byte> bytes)
    {
        tracker.Advance(bytes);
        return bytes.Length;
    }
}
