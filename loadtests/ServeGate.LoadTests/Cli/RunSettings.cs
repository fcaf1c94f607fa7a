using System.CommandLine;
using System.Globalization;
using ServeGate.LoadTests.Client;
using ServeGate.LoadTests.Metrics;
using ServeGate.LoadTests.Progress;
using ServeGate.LoadTests.Results;
using ServeGate.LoadTests.Scenarios;
using ServeGate.LoadTests.Workload;

namespace ServeGate.LoadTests.Cli;

/// <summary>A run's checked settings, built from the command line; every problem is reported at once.</summary>
internal sealed record RunSettings
{
    private const int MaxConcurrencyLimit = 100_000;
    private static readonly TimeSpan MaxDuration = TimeSpan.FromDays(7);

    public required ClientOptions Client { get; init; }

    public required ScenarioPlan Plan { get; init; }

    public required IWorkload Workload { get; init; }

    public required RunConfig Config { get; init; }

    public required ServiceLevelObjectives Slo { get; init; }

    public Uri? CostUrl { get; init; }

    public required string OutDirectory { get; init; }

    public ProgressMode Progress { get; init; }

    /// <summary>The most requests in flight at once, for the connection pool.</summary>
    public int MaxInFlight => Plan.Kind switch
    {
        ScenarioKind.Sweep => Plan.SweepLevels.Max(),
        ScenarioKind.Poisson => Plan.MaxConcurrency ?? Math.Min(Plan.Requests, 1024),
        _ => Plan.Concurrency,
    };

    /// <summary>Checks the options; returns null and every problem found when any is wrong.</summary>
    public static RunSettings? TryBind(ParseResult parse, RunOptions o, TimeProvider time, out IReadOnlyList<string> errors)
    {
        var problems = new List<string>();
        errors = problems;

        var urlText = parse.GetValue(o.Url);
        Uri? url = null;
        if (string.IsNullOrWhiteSpace(urlText))
        {
            problems.Add("--url is required: the base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8080");
        }
        else if (!TryHttpUri(urlText, out url))
        {
            problems.Add($"--url '{urlText}' is not an absolute http:// or https:// URL");
        }

        var model = parse.GetValue(o.Model);
        if (string.IsNullOrWhiteSpace(model))
        {
            problems.Add("--model must not be empty");
        }

        var endpointText = parse.GetValue(o.Endpoint);
        EndpointKind endpoint = EndpointKind.Chat;
        if (string.Equals(endpointText, "completions", StringComparison.OrdinalIgnoreCase))
        {
            endpoint = EndpointKind.Completions;
        }
        else if (!string.Equals(endpointText, "chat", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"--endpoint '{endpointText}' is not chat or completions");
        }

        var concurrency = parse.GetValue(o.Concurrency);
        CheckRange(problems, "--concurrency", concurrency, 1, MaxConcurrencyLimit);
        var requests = parse.GetValue(o.Requests);
        CheckRange(problems, "--requests", requests, 1, int.MaxValue);
        var warmup = parse.GetValue(o.Warmup);
        CheckRange(problems, "--warmup", warmup, 0, 1000);
        var duration = CheckSeconds(problems, "--duration", parse.GetValue(o.Duration), MaxDuration);
        var timeout = CheckSeconds(problems, "--timeout", parse.GetValue(o.Timeout), MaxDuration);

        var sweepText = parse.GetValue(o.Sweep);
        var rate = parse.GetValue(o.Rate);
        var maxConcurrency = parse.GetValue(o.MaxConcurrency);
        var rampUp = parse.GetValue(o.RampUp);
        var chosen = new[] { sweepText is not null ? "--sweep" : null, rate is not null ? "--rate" : null, rampUp is not null ? "--ramp-up" : null }
            .OfType<string>().ToList();
        if (chosen.Count > 1)
        {
            problems.Add($"{string.Join(", ", chosen)} choose different scenarios; give at most one");
        }

        List<int>? sweep = null;
        if (sweepText is not null)
        {
            sweep = ParseSweep(sweepText, problems);
        }

        if (rate is { } r && !(r > 0 && r <= 1_000_000))
        {
            problems.Add($"--rate {Show(r)} must be a number of requests per second above 0");
        }

        if (maxConcurrency is { } mc)
        {
            CheckRange(problems, "--max-concurrency", mc, 1, MaxConcurrencyLimit);
            if (rate is null)
            {
                problems.Add("--max-concurrency applies to --rate runs only (closed loops use --concurrency)");
            }
        }

        TimeSpan ramp = TimeSpan.Zero;
        if (rampUp is { } ru)
        {
            ramp = CheckSeconds(problems, "--ramp-up", ru, MaxDuration);
        }

        var seed = parse.GetValue(o.Seed);
        var outputTokens = ParseDistribution(problems, "--max-tokens", parse.GetValue(o.MaxTokens));
        var promptTokens = ParseDistribution(problems, "--prompt-tokens", parse.GetValue(o.PromptTokens));
        var prefixRatio = parse.GetValue(o.SharedPrefixRatio);
        if (!(prefixRatio >= 0 && prefixRatio <= 1))
        {
            problems.Add($"--shared-prefix-ratio {Show(prefixRatio)} must be between 0 and 1");
        }

        var sloTtft = CheckPositiveOrNull(problems, "--slo-ttft-ms", parse.GetValue(o.SloTtftMs));
        var sloTpot = CheckPositiveOrNull(problems, "--slo-tpot-ms", parse.GetValue(o.SloTpotMs));

        var costText = parse.GetValue(o.CostUrl);
        Uri? costUrl = null;
        if (costText is not null && !TryHttpUri(costText, out costUrl))
        {
            problems.Add($"--cost-url '{costText}' is not an absolute http:// or https:// URL");
        }

        var progressText = parse.GetValue(o.Progress);
        if (!Enum.TryParse<ProgressMode>(progressText, ignoreCase: true, out var progress) || !Enum.IsDefined(progress))
        {
            problems.Add($"--progress '{progressText}' is not auto, live, plain or none");
        }

        var promptsFile = parse.GetValue(o.PromptsFile);
        IWorkload? workload = null;
        if (promptsFile is not null && outputTokens is not null)
        {
            workload = PromptsFileWorkload.TryLoad(promptsFile, endpoint == EndpointKind.Chat, outputTokens, seed, out var fileErrors);
            problems.AddRange(fileErrors);
        }
        else if (problems.Count == 0 && outputTokens is not null && promptTokens is not null)
        {
            workload = new SyntheticWorkload(promptTokens, outputTokens, prefixRatio, seed);
        }

        if (problems.Count > 0 || workload is null || url is null || outputTokens is null || promptTokens is null)
        {
            return null;
        }

        var kind = sweep is not null ? ScenarioKind.Sweep
            : rate is not null ? ScenarioKind.Poisson
            : rampUp is not null ? ScenarioKind.Ramp
            : ScenarioKind.Closed;
        var client = new ClientOptions
        {
            BaseUrl = url,
            Model = model!,
            Endpoint = endpoint,
            Stream = parse.GetValue(o.Stream),
            IgnoreEos = parse.GetValue(o.IgnoreEos),
            NoKeepAlive = parse.GetValue(o.NoKeepAlive),
            ApiKey = parse.GetValue(o.ApiKey) ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY"),
            Timeout = timeout,
        };
        var plan = new ScenarioPlan
        {
            Kind = kind,
            Concurrency = concurrency,
            SweepLevels = sweep ?? [],
            Rate = rate ?? 0,
            MaxConcurrency = maxConcurrency,
            RampUp = ramp,
            Requests = requests,
            Warmup = warmup,
            Duration = duration,
            Seed = seed,
        };
        var scenario = kind.ToString().ToLowerInvariant();
        return new RunSettings
        {
            Client = client,
            Plan = plan,
            Workload = workload,
            Slo = new ServiceLevelObjectives(sloTtft, sloTpot),
            CostUrl = costUrl,
            Progress = progress,
            OutDirectory = parse.GetValue(o.Out) ??
                Path.Combine("loadtest-results", time.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)),
            Config = new RunConfig
            {
                Url = url.AbsoluteUri,
                Model = client.Model,
                Endpoint = endpoint == EndpointKind.Chat ? "chat" : "completions",
                Stream = client.Stream,
                Scenario = scenario,
                Concurrency = concurrency,
                Sweep = sweep,
                Rate = rate,
                MaxConcurrency = maxConcurrency,
                RampUpS = rampUp,
                Requests = requests,
                Warmup = warmup,
                DurationS = duration.TotalSeconds,
                TimeoutS = timeout.TotalSeconds,
                PromptTokens = promptTokens.Text,
                MaxTokens = outputTokens.Text,
                SharedPrefixRatio = prefixRatio,
                IgnoreEos = client.IgnoreEos,
                NoKeepAlive = client.NoKeepAlive,
                Seed = seed,
                PromptsFile = promptsFile,
                SloTtftMs = sloTtft,
                SloTpotMs = sloTpot,
                CostUrl = costUrl?.AbsoluteUri,
            },
        };
    }

    private static bool TryHttpUri(string text, out Uri? uri) =>
        Uri.TryCreate(text, UriKind.Absolute, out uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static void CheckRange(List<string> problems, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            problems.Add(max == int.MaxValue
                ? $"{name} {value} must be at least {min}"
                : $"{name} {value} must be between {min} and {max}");
        }
    }

    private static TimeSpan CheckSeconds(List<string> problems, string name, double seconds, TimeSpan max)
    {
        if (!(seconds > 0) || seconds > max.TotalSeconds)
        {
            problems.Add($"{name} {Show(seconds)} must be a number of seconds above 0 and at most {max.TotalSeconds}");
            return TimeSpan.FromSeconds(1);
        }

        return TimeSpan.FromSeconds(seconds);
    }

    private static double? CheckPositiveOrNull(List<string> problems, string name, double? value)
    {
        if (value is { } v && !(v > 0 && !double.IsInfinity(v)))
        {
            problems.Add($"{name} {Show(v)} must be above 0");
        }

        return value;
    }

    private static LengthDistribution? ParseDistribution(List<string> problems, string name, string? text)
    {
        if (LengthDistribution.TryParse(text, out var distribution, out var error))
        {
            return distribution;
        }

        problems.Add($"{name} {error}");
        return null;
    }

    private static List<int>? ParseSweep(string text, List<string> problems)
    {
        var levels = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var level) || level < 1 || level > MaxConcurrencyLimit)
            {
                problems.Add($"--sweep '{text}' should be concurrency levels between 1 and {MaxConcurrencyLimit} separated by commas, e.g. 1,2,4,8");
                return null;
            }

            levels.Add(level);
        }

        return levels;
    }

    private static string Show(double value) => value.ToString(CultureInfo.InvariantCulture);
}
