using Microsoft.Extensions.Options;
using ServeGate.Gateway;

if (args.Any(a => a is "-h" or "--help"))
{
    Console.Out.WriteLine(CommandLine.Usage);
    return 0;
}

WebApplication app;
try
{
    app = ServeGateApplication.Create(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"servegate: {ex.Message.Split(" (Parameter")[0]}\n\n{CommandLine.Usage}");
    return 2;
}

try
{
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is OptionsValidationException or ServeGate.LlamaCpp.LlamaException or IOException)
{
    // A start-up problem the operator can fix: say it plainly, without a stack trace.
    Console.Error.WriteLine($"servegate: cannot start: {ex.Message}");
    return 1;
}
