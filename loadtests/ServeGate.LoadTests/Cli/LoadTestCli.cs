using System.CommandLine;

namespace ServeGate.LoadTests.Cli;

/// <summary>The command line: a load test run (root command) and <c>compare</c>.</summary>
internal static class LoadTestCli
{
    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code. Cancelling the token aborts a run.</summary>
    public static async Task<int> InvokeAsync(string[] args, CliContext cli, CancellationToken cancellationToken)
    {
        var root = Create(cli);
        var parse = root.Parse(args);

        // Parse errors get one line each and a pointer to --help, instead of the whole help text.
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await cli.Error.WriteLineAsync("error: " + error.Message).ConfigureAwait(false);
            }

            await cli.Error.WriteLineAsync("Run with --help for usage.").ConfigureAwait(false);
            return ExitCodes.InvalidArguments;
        }

        var invocation = new InvocationConfiguration
        {
            Output = cli.Output,
            Error = cli.Error,

            // Program.cs turns Ctrl+C into the cancellation token, so a run can still write its partial results.
            ProcessTerminationTimeout = null,
        };
        return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
    }

    internal static RootCommand Create(CliContext cli)
    {
        var options = new RunOptions();
        var root = new RootCommand(
            "ServeGate load tester: drives an OpenAI-compatible server (llama-server, vLLM, ServeGate) and reports " +
            "TTFT, inter-token latency, TPOT, end-to-end latency, tokens/s, goodput and errors.");
        foreach (var option in options.All)
        {
            root.Options.Add(option);
        }

        root.Subcommands.Add(CompareCommand.Create(cli));
        root.SetAction(async (parse, cancellationToken) =>
        {
            var settings = RunSettings.TryBind(parse, options, cli.Time, out var errors);
            if (settings is null)
            {
                foreach (var error in errors)
                {
                    await cli.Error.WriteLineAsync("error: " + error).ConfigureAwait(false);
                }

                await cli.Error.WriteLineAsync("Run with --help for usage.").ConfigureAwait(false);
                return ExitCodes.InvalidArguments;
            }

            return await RunCommand.ExecuteAsync(settings, cli, cancellationToken).ConfigureAwait(false);
        });
        return root;
    }
}
