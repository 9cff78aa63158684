namespace Passerelle.Bench.Infrastructure;

/// <summary>
/// How long every peer carries the mode's load before the measure, in every run: the same for all, so that each is
/// measured in its steady state. The .NET peers need it: under load their hot code is compiled again, optimised with
/// what was seen running (tiered compilation and its profile-guided tier), on the one core they share with the work,
/// for about ten seconds. Measured on Passerelle's HTTP path (proxy CPU per request): 47-67 µs after 1 s, 36-38 µs
/// after 3-5 s, 24-37 µs after 10 s, 23.5-28 µs after 15 s (bench/README.md, "Warm-up").
/// </summary>
internal static class Warmup
{
    public const int DefaultSeconds = 10;
}
