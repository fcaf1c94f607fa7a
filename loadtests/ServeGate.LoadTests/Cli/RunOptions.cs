using System.CommandLine;

namespace ServeGate.LoadTests.Cli;

/// <summary>The options of a load test run (the root command). Defaults are here; checks are in <see cref="RunSettings"/>.</summary>
internal sealed class RunOptions
{
    public Option<string?> Url { get; } = new("--url")
    {
        Description = "Base URL of the OpenAI-compatible server, e.g. http://127.0.0.1:8080 (requests go to {url}/v1/...).",
    };

    public Option<string> Model { get; } = new("--model")
    {
        Description = "Model name sent in each request.",
        DefaultValueFactory = _ => "default",
    };

    public Option<string> Endpoint { get; } = new("--endpoint")
    {
        Description = "chat (/v1/chat/completions) or completions (/v1/completions).",
        DefaultValueFactory = _ => "chat",
    };

    public Option<bool> Stream { get; } = new("--stream")
    {
        Description = "Stream the responses (needed for TTFT and ITL): true or false. [default: true]",
        DefaultValueFactory = _ => true,
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = "Bearer token; defaults to the OPENAI_API_KEY environment variable. Never written to the results.",
    };

    public Option<int> Concurrency { get; } = new("--concurrency", "-c")
    {
        Description = "Clients sending requests in a closed loop (the final count with --ramp-up).",
        DefaultValueFactory = _ => 1,
    };

    public Option<string?> Sweep { get; } = new("--sweep")
    {
        Description = "Concurrency levels run one after another, e.g. 1,2,4,8,16 (--requests and --duration apply per level).",
    };

    public Option<double?> Rate { get; } = new("--rate")
    {
        Description = "Open loop: Poisson arrivals at this mean rate (requests/s), seeded by --seed.",
    };

    public Option<int?> MaxConcurrency { get; } = new("--max-concurrency")
    {
        Description = "With --rate: at most this many requests in flight; later arrivals wait.",
    };

    public Option<double?> RampUp { get; } = new("--ramp-up")
    {
        Description = "Seconds over which clients start one by one, from 1 to --concurrency.",
    };

    public Option<int> Requests { get; } = new("--requests", "-n")
    {
        Description = "Requests to send (per level with --sweep).",
        DefaultValueFactory = _ => 100,
    };

    public Option<int> Warmup { get; } = new("--warmup")
    {
        Description = "Unmeasured requests sent one at a time before the run, to open a connection and warm the server.",
        DefaultValueFactory = _ => 1,
    };

    public Option<double> Duration { get; } = new("--duration")
    {
        Description = "Seconds after which no new request is sent (per level with --sweep); requests in flight finish.",
        DefaultValueFactory = _ => 600,
    };

    public Option<double> Timeout { get; } = new("--timeout")
    {
        Description = "Seconds one request may take, headers to last token, before it counts as a timeout error.",
        DefaultValueFactory = _ => 300,
    };

    public Option<string> PromptTokens { get; } = new("--prompt-tokens")
    {
        Description = "Prompt length in tokens (approximated as words): N, uniform:MIN:MAX or normal:MEAN:STDDEV.",
        DefaultValueFactory = _ => "256",
    };

    public Option<string> MaxTokens { get; } = new("--max-tokens", "--output-tokens")
    {
        Description = "max_tokens of each request: N, uniform:MIN:MAX or normal:MEAN:STDDEV.",
        DefaultValueFactory = _ => "128",
    };

    public Option<double> SharedPrefixRatio { get; } = new("--shared-prefix-ratio")
    {
        Description = "Fraction (0 to 1) of each prompt that is a prefix common to all requests, to exercise KV reuse.",
        DefaultValueFactory = _ => 0,
    };

    public Option<bool> IgnoreEos { get; } = new("--ignore-eos")
    {
        Description = "Send \"ignore_eos\": true so every output runs to max_tokens (llama-server, vLLM, ServeGate).",
    };

    public Option<bool> NoKeepAlive { get; } = new("--no-keep-alive")
    {
        Description = "A new connection per request (Connection: close), for servers that drop reused connections under load.",
    };

    public Option<long> Seed { get; } = new("--seed")
    {
        Description = "Seed for prompts, lengths and arrival times; the same seed repeats the same workload.",
        DefaultValueFactory = _ => 1,
    };

    public Option<string?> PromptsFile { get; } = new("--prompts-file")
    {
        Description = "JSON Lines file of {\"prompt\": ...} or {\"messages\": [...]}, optional \"max_tokens\"; used in order, cycled.",
    };

    public Option<double?> SloTtftMs { get; } = new("--slo-ttft-ms")
    {
        Description = "Goodput objective: time to first token at most this many milliseconds.",
    };

    public Option<double?> SloTpotMs { get; } = new("--slo-tpot-ms")
    {
        Description = "Goodput objective: time per output token at most this many milliseconds.",
    };

    public Option<string?> CostUrl { get; } = new("--cost-url")
    {
        Description = "After the run, GET this URL (ServeGate's economics API) and embed its JSON under \"cost\".",
    };

    public Option<string?> Out { get; } = new("--out", "-o")
    {
        Description = "Folder for result.json, result.md and report.html (default: loadtest-results/<UTC time>).",
    };

    public Option<string> Progress { get; } = new("--progress")
    {
        Description = "auto, live, plain or none.",
        DefaultValueFactory = _ => "auto",
    };

    public IEnumerable<Option> All =>
    [
        Url, Model, Endpoint, Stream, ApiKey, Concurrency, Sweep, Rate, MaxConcurrency, RampUp, Requests, Warmup, Duration, Timeout,
        PromptTokens, MaxTokens, SharedPrefixRatio, IgnoreEos, NoKeepAlive, Seed, PromptsFile, SloTtftMs, SloTpotMs, CostUrl, Out, Progress,
    ];
}
