using Passerelle.Proxy.Tunnels;

namespace Passerelle.Proxy.Tests.Tunnels;

/// <summary>A signal whose task exists only if someone waits: set before or after the wait, it completes.</summary>
public sealed class LazySignalTests
{
    [Fact]
    public async Task ATaskTakenBeforeTheSignalCompletesWhenItIsSet()
    {
        var signal = new LazySignal();
        var waiting = signal.Task;
        Assert.False(waiting.IsCompleted);

        signal.Set();
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(signal.IsSet);
    }

    [Fact]
    public void ATaskTakenAfterTheSignalIsComplete()
    {
        var signal = new LazySignal();
        signal.Set();
        Assert.True(signal.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task SetRacingWithTheFirstWaitNeverLosesTheSignal()
    {
        for (var i = 0; i < 2000; i++)
        {
            var holder = new Holder();
            using var start = new Barrier(2);
            var setter = Task.Run(() =>
            {
                start.SignalAndWait();
                holder.Signal.Set();
            });
            start.SignalAndWait();
            var task = holder.Signal.Task;
            await setter;
            await task.WaitAsync(TimeSpan.FromSeconds(5));
        }
    }

    private sealed class Holder
    {
        public LazySignal Signal;
    }
}
