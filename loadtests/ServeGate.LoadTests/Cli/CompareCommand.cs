using System.CommandLine;
using ServeGate.LoadTests.Reports;
using ServeGate.LoadTests.Results;

namespace ServeGate.LoadTests.Cli;

/// <summary><c>compare a/result.json b/result.json [...] [--out DIR]</c>: side-by-side tables with ratios to the first run.</summary>
internal static class CompareCommand
{
    public static Command Create(CliContext cli)
    {
        var results = new Argument<string[]>("results")
        {
            Description = "Two or more result.json files; ratios are against the first.",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for compare.md and compare.html." };
        var command = new Command("compare", "Compare the results of two or more runs side by side.") { results, output };
        command.SetAction((parse, cancellationToken) => ExecuteAsync(parse.GetValue(results) ?? [], parse.GetValue(output), cli, cancellationToken));
        return command;
    }

    public static async Task<int> ExecuteAsync(string[] paths, string? outDirectory, CliContext cli, CancellationToken cancellationToken)
    {
        if (paths.Length < 2)
        {
            await cli.Error.WriteLineAsync("error: compare needs at least two result.json files").ConfigureAwait(false);
            return ExitCodes.InvalidArguments;
        }

        var runs = new List<(string, RunResult)>();
        var problems = new List<string>();
        foreach (var path in paths)
        {
            if (ReportWriter.TryRead(path, out var error) is { } result)
            {
                runs.Add((path, result));
            }
            else
            {
                problems.Add(error);
            }
        }

        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                await cli.Error.WriteLineAsync("error: " + problem).ConfigureAwait(false);
            }

            return ExitCodes.InvalidArguments;
        }

        var named = CompareReport.Name(runs);
        var markdown = CompareReport.ToMarkdown(named);
        await cli.Output.WriteAsync(markdown).ConfigureAwait(false);
        if (outDirectory is null)
        {
            return ExitCodes.Success;
        }

        try
        {
            Directory.CreateDirectory(outDirectory);
            await File.WriteAllTextAsync(Path.Combine(outDirectory, CompareReport.MarkdownFile), markdown, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(outDirectory, CompareReport.HtmlFile), CompareReport.ToHtml(named), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            await cli.Error.WriteLineAsync($"error: cannot write the comparison to '{outDirectory}': {ex.Message}").ConfigureAwait(false);
            return ExitCodes.OutputFailed;
        }

        await cli.Output.WriteLineAsync($"\nWrote {Path.Combine(outDirectory, CompareReport.MarkdownFile)} and {CompareReport.HtmlFile}.")
            .ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
