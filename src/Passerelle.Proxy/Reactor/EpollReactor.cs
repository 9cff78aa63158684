using System.Runtime.InteropServices;

namespace Passerelle.Proxy.Reactor;

/// <summary>
/// One thread around one epoll set, in edge-triggered mode, for the sockets of proxied WebSockets: an edge marks the
/// socket's read or write side ready and resumes its waiter right there, so that a relay's copy loop runs on this
/// thread from the edge to its next wait, without going through the thread pool. Sockets are found from an event by
/// a slot number and the slot's generation, so that an event fetched for a socket closed in the meantime is dropped.
/// </summary>
internal sealed unsafe class EpollReactor
{
    private const int MaxEvents = 256;

    [ThreadStatic]
    private static bool t_onReactor;

    private readonly int _epoll;
    private readonly object _slotsLock = new();
    private readonly Stack<int> _free = new();
    private ReactorSocket?[] _slots = new ReactorSocket?[256];
    private int _used;
    private uint _generation;

    private EpollReactor(int epoll, string name)
    {
        _epoll = epoll;
        new Thread(Run) { IsBackground = true, Name = name }.Start();
    }

    /// <summary>True on a reactor's thread: work that may block or take long must leave it.</summary>
    public static bool OnReactorThread => t_onReactor;

    /// <summary>The epoll descriptor, so that it is not mistaken for another's.</summary>
    internal int Descriptor => _epoll;

    public static EpollReactor Start(string name)
    {
        var epoll = Libc.EpollCreate(Libc.CloseOnExec);
        if (epoll < 0)
        {
            throw Libc.Failure(Marshal.GetLastPInvokeError());
        }

        return new EpollReactor(epoll, name);
    }

    /// <summary>
    /// Serves <paramref name="fd"/>, a non-blocking socket that is this reactor's from now on: connected, or
    /// <paramref name="connecting"/> (its connect in progress). On failure the descriptor is closed.
    /// </summary>
    public ReactorSocket Adopt(int fd, bool connecting = false)
    {
        var socket = new ReactorSocket(this, fd, connecting);
        lock (_slotsLock)
        {
            var index = _free.Count > 0 ? _free.Pop() : _used++;
            if (index == _slots.Length)
            {
                var grown = new ReactorSocket?[_slots.Length * 2];
                _slots.CopyTo(grown, 0);
                Volatile.Write(ref _slots, grown);
            }

            socket.Id = ((ulong)++_generation << 32) | (uint)index;
            _slots[index] = socket;
        }

        if (Libc.EpollCtl(_epoll, Libc.EpollCtlAdd, fd, Libc.EpollIn | Libc.EpollOut | Libc.EpollRdHup | Libc.EpollEt, socket.Id) != 0)
        {
            var failure = Libc.Failure(Marshal.GetLastPInvokeError());
            socket.Dispose();
            throw failure;
        }

        return socket;
    }

    /// <summary>The socket's descriptor is closed: its slot may serve another.</summary>
    internal void Forget(ReactorSocket socket)
    {
        var index = (int)(uint)socket.Id;
        lock (_slotsLock)
        {
            if (ReferenceEquals(_slots[index], socket))
            {
                _slots[index] = null;
                _free.Push(index);
            }
        }
    }

    private void Run()
    {
        t_onReactor = true;
        var size = Libc.EventSize;
        var events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * size));
        while (true)
        {
            var count = Libc.EpollWait(_epoll, events, MaxEvents, -1);
            if (count < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.EIntr)
                {
                    continue;
                }

                Environment.FailFast("epoll_wait failed: " + Libc.Failure(Marshal.GetLastPInvokeError()).Message);
            }

            var slots = Volatile.Read(ref _slots);
            for (var i = 0; i < count; i++)
            {
                var entry = events + (i * size);
                var id = *(ulong*)(entry + Libc.EventDataOffset);
                var index = (int)(uint)id;
                if (index < slots.Length && slots[index] is { } socket && socket.Id == id)
                {
                    try
                    {
                        socket.OnEvents(*(uint*)entry);
                    }
                    catch (Exception)
                    {
                        // Continuations are async methods, which keep their exceptions in their tasks; should one
                        // throw here all the same, the reactor still serves every other socket.
                    }
                }
            }
        }
    }
}
