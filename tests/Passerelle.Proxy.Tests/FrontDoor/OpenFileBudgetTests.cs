using Passerelle.Proxy.FrontDoor;

namespace Passerelle.Proxy.Tests.FrontDoor;

/// <summary>How many connections the traffic port holds for a given open-file limit.</summary>
public sealed class OpenFileBudgetTests
{
    [Theory]
    [InlineData(20_000, 215, 9_828)] // this machine's hard limit: every one of the bench's 9,750 WebSockets fits
    [InlineData(1_048_576, 215, 524_116)]
    [InlineData(400, 213, 29)]
    [InlineData(300, 280, 16)] // never below a handful, even when the limit is nearly used up at start
    public void EachConnectionCountsForTwoDescriptorsBesidesThoseOpenAtStartAndAMarginWithTheSplicePipes(long fileLimit, int inUse, int expected) =>
        Assert.Equal(expected, OpenFileBudget.ConnectionLimit(fileLimit, inUse));

    [Fact]
    public void WithoutALimitThereIsNone() => Assert.Equal(int.MaxValue, OpenFileBudget.ConnectionLimit(null, 200));

    [Theory]
    [InlineData("Max open files            1024                 1048576              files", 1024L)]
    [InlineData("Max open files            unlimited            unlimited            files", null)]
    public void TheSoftLimitIsReadFromProcLimits(string line, long? expected)
    {
        string[] limits =
        [
            "Limit                     Soft Limit           Hard Limit           Units",
            "Max processes             unlimited            unlimited            processes",
            line,
            "Max locked memory         8388608              8388608              bytes",
        ];
        Assert.Equal(expected, OpenFileBudget.SoftFileLimit(limits));
    }

    [Fact]
    public void ThisProcessHasABudgetBelowItsLimit()
    {
        var (connections, fileLimit) = OpenFileBudget.ForThisProcess();
        Assert.NotNull(fileLimit); // Linux, with a finite limit
        Assert.InRange(connections, 16, fileLimit.Value / 2);
    }
}
