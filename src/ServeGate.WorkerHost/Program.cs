using ServeGate.Gateway;
using ServeGate.WorkerHost;

if (args.Any(a => a is "-h" or "--help"))
{
    Console.Out.WriteLine(CommandLine.Usage.Replace("ServeGate.Gateway", "ServeGate.WorkerHost", StringComparison.Ordinal));
    return 0;
}

try
{
    await WorkerHostApplication.Create(args).RunAsync();
    return 0;
}
catch (Exception ex) when (ex is ArgumentException or Microsoft.Extensions.Options.OptionsValidationException or ServeGate.LlamaCpp.LlamaException or IOException)
{
    Console.Error.WriteLine($"servegate-worker: {ex.Message}");
    return 1;
}
