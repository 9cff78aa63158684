using ChatServer;
using Microsoft.Extensions.Options;

try
{
    await ChatServerApp.Build(args).RunAsync();
    return 0;
}
catch (OptionsValidationException e)
{
    // A configuration mistake deserves one readable line, not a stack trace.
    Console.Error.WriteLine($"ChatServer: invalid configuration: {string.Join(" ", e.Failures)}");
    return 2;
}
