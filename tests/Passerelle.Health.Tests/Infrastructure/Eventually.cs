using System.Diagnostics;

namespace Passerelle.Health.Tests.Infrastructure;

/// <summary>Waits for a condition with a deadline, never for a fixed time.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? within = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(10);
        var started = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(started) > limit)
            {
                Assert.Fail($"not true within {limit.TotalSeconds} s: {what}");
            }

            await Task.Delay(10);
        }
    }
}
