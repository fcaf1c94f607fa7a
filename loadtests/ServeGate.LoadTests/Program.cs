using System.Runtime.InteropServices;
using ServeGate.LoadTests.Cli;

// The first Ctrl+C (or SIGTERM) aborts the run cleanly: nothing new is sent and the partial results are written.
// A second Ctrl+C ends the process at once.
using var abort = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (!abort.IsCancellationRequested)
    {
        e.Cancel = true;
        abort.Cancel();
    }
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    abort.Cancel();
});

return await LoadTestCli.InvokeAsync(args, new CliContext(Console.Out, Console.Error, InteractiveConsole: true, TimeProvider.System), abort.Token);
