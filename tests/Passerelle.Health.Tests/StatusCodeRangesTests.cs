using Passerelle.Model.Health;

namespace Passerelle.Health.Tests;

public sealed class StatusCodeRangesTests
{
    [Fact]
    public void A_range_and_a_code_contain_exactly_their_statuses()
    {
        Assert.True(StatusCodeRanges.TryParse("200-399, 401", out var ranges, out var error));
        Assert.Null(error);

        Assert.True(ranges.Contains(200));
        Assert.True(ranges.Contains(399));
        Assert.True(ranges.Contains(401));
        Assert.False(ranges.Contains(199));
        Assert.False(ranges.Contains(400));
        Assert.False(ranges.Contains(402));
    }

    [Theory]
    [InlineData("abc", "\"abc\" is not a status code or range between 100 and 599")]
    [InlineData("600", "\"600\" is not a status code or range between 100 and 599")]
    [InlineData("399-200", "\"399-200\" is not a status code or range between 100 and 599")]
    [InlineData("200-399, 99", "\"99\" is not a status code or range between 100 and 599")]
    [InlineData("200-300-400", "\"200-300-400\" is not a status code or range between 100 and 599")]
    [InlineData("", "no status code given")]
    [InlineData(" , ", "no status code given")]
    public void Bad_input_is_rejected_with_a_message(string text, string message)
    {
        Assert.False(StatusCodeRanges.TryParse(text, out _, out var error));
        Assert.NotNull(error);
        Assert.StartsWith(message, error);
    }

    [Theory]
    [InlineData("200-399, 401", "200-399, 401")]
    [InlineData("401,200-399", "200-399, 401")]
    [InlineData(" 200 - 399 ,  401 ", "200-399, 401")]
    [InlineData("204-204", "204")]
    public void ToString_is_canonical(string text, string canonical)
    {
        Assert.True(StatusCodeRanges.TryParse(text, out var ranges, out _));
        Assert.Equal(canonical, ranges.ToString());
        Assert.True(StatusCodeRanges.TryParse(canonical, out var again, out _));
        Assert.Equal(again, ranges);
    }

    [Fact]
    public void The_default_is_application_gateways_200_to_399() =>
        Assert.Equal("200-399", StatusCodeRanges.Default.ToString());
}
