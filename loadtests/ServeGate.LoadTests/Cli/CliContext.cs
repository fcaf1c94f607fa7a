namespace ServeGate.LoadTests.Cli;

/// <summary>Where the command line writes and what clock it reads; tests pass string writers and their own clock.</summary>
/// <param name="Output">Progress, summaries and comparisons.</param>
/// <param name="Error">Error messages.</param>
/// <param name="InteractiveConsole">Output is the process's own terminal, so a live display may draw on it.</param>
/// <param name="Time">The clock for timestamps and delays.</param>
internal sealed record CliContext(TextWriter Output, TextWriter Error, bool InteractiveConsole, TimeProvider Time);

/// <summary>Process exit codes (also listed in loadtests/README.md).</summary>
internal static class ExitCodes
{
    /// <summary>The run finished (some requests may have failed; see errors_by_type) or the comparison was written.</summary>
    public const int Success = 0;

    /// <summary>Invalid arguments: nothing was sent.</summary>
    public const int InvalidArguments = 1;

    /// <summary>The results could not be written.</summary>
    public const int OutputFailed = 2;

    /// <summary>The run ended without a single successful request (wrong URL or model, server down).</summary>
    public const int NoSuccessfulRequest = 3;

    /// <summary>Aborted with Ctrl+C (or SIGTERM); the partial results were written.</summary>
    public const int Aborted = 130;
}
