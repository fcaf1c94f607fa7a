using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServeGate.LoadTests.Results;

// The result.json schema (documented in loadtests/README.md; bump SchemaVersion when a field changes meaning or
// goes away; adding a field does not). Snake_case names, milliseconds for latencies, seconds for durations.

/// <summary>Statistics of one latency (milliseconds). All null when nothing was measured (e.g. TTFT without streaming).</summary>
internal sealed class LatencyStats
{
    public int Count { get; set; }

    public double? Mean { get; set; }

    public double? Min { get; set; }

    public double? P50 { get; set; }

    public double? P90 { get; set; }

    public double? P99 { get; set; }

    public double? Max { get; set; }
}

/// <summary>Requests that succeeded within the latency objectives (an objective not set is met by every request).</summary>
internal sealed class GoodputStats
{
    public double? SloTtftMs { get; set; }

    public double? SloTpotMs { get; set; }

    public int Requests { get; set; }

    public double RequestsPerSecond { get; set; }

    /// <summary>Good requests over finished requests (errors included), 0 to 1.</summary>
    public double Ratio { get; set; }
}

/// <summary>A distinct error seen during the run, with how often it occurred.</summary>
internal sealed class ErrorSample
{
    public string Type { get; set; } = "";

    public string Message { get; set; } = "";

    public int Count { get; set; }
}

/// <summary>The metrics of a set of requests: a whole run or one step of it.</summary>
internal class MeasuredBlock
{
    /// <summary>Finished requests, successful or not (cancelled ones excluded).</summary>
    public int Requests { get; set; }

    public int SuccessfulRequests { get; set; }

    public int Errors { get; set; }

    /// <summary>Requests in flight when the run was aborted, dropped unmeasured.</summary>
    public int CancelledRequests { get; set; }

    /// <summary>Wall time the throughputs are divided by.</summary>
    public double DurationS { get; set; }

    /// <summary>Successful requests per second.</summary>
    public double RequestsPerSecond { get; set; }

    public long PromptTokens { get; set; }

    public long OutputTokens { get; set; }

    public double OutputTokensPerSecond { get; set; }

    /// <summary>(prompt + output tokens) per second.</summary>
    public double TotalTokensPerSecond { get; set; }

    public LatencyStats TtftMs { get; set; } = new();

    public LatencyStats ItlMs { get; set; } = new();

    public LatencyStats TpotMs { get; set; } = new();

    public LatencyStats E2eMs { get; set; } = new();

    public GoodputStats Goodput { get; set; } = new();

    /// <summary>Successful requests whose token counts came from the server's usage (the rest are estimates).</summary>
    public int UsageReportedRequests { get; set; }

    /// <summary>Sum of cached_tokens over sum of prompt_tokens, from the server's usage; null without usage.</summary>
    public double? CachedTokenRatio { get; set; }

    public long? CachedTokens { get; set; }

    /// <summary>Every error type, zero included, in a fixed order.</summary>
    public Dictionary<string, int> ErrorsByType { get; set; } = [];

    public List<ErrorSample> ErrorSamples { get; set; } = [];
}

/// <summary>One step of a run: a concurrency level of a sweep or ramp, or the single step of other scenarios.</summary>
internal sealed class StepResult : MeasuredBlock
{
    [JsonPropertyOrder(-3)]
    public string Label { get; set; } = "";

    /// <summary>Client concurrency of the step; for Poisson arrivals, null (see <see cref="Rate"/>).</summary>
    [JsonPropertyOrder(-2)]
    public int? Concurrency { get; set; }

    /// <summary>Target arrival rate (requests/s) of an open-loop step.</summary>
    [JsonPropertyOrder(-1)]
    public double? Rate { get; set; }
}

/// <summary>The command line a run was started with, minus the API key.</summary>
internal sealed class RunConfig
{
    public string Url { get; set; } = "";

    public string Model { get; set; } = "";

    public string Endpoint { get; set; } = "";

    public bool Stream { get; set; }

    public string Scenario { get; set; } = "";

    public int Concurrency { get; set; }

    public List<int>? Sweep { get; set; }

    public double? Rate { get; set; }

    public int? MaxConcurrency { get; set; }

    public double? RampUpS { get; set; }

    public int Requests { get; set; }

    public int Warmup { get; set; }

    public double DurationS { get; set; }

    public double TimeoutS { get; set; }

    public string PromptTokens { get; set; } = "";

    public string MaxTokens { get; set; } = "";

    public double SharedPrefixRatio { get; set; }

    public bool IgnoreEos { get; set; }

    public bool NoKeepAlive { get; set; }

    public long Seed { get; set; }

    public string? PromptsFile { get; set; }

    public double? SloTtftMs { get; set; }

    public double? SloTpotMs { get; set; }

    public string? CostUrl { get; set; }
}

/// <summary>The whole of result.json: the run's metrics (all steps together) and each step's.</summary>
internal sealed class RunResult : MeasuredBlock
{
    public const int CurrentSchemaVersion = 1;

    [JsonPropertyOrder(-7)]
    public int SchemaVersion { get; set; } = CurrentSchemaVersion;

    [JsonPropertyOrder(-6)]
    public string Tool { get; set; } = "servegate-loadtest";

    /// <summary><c>closed</c>, <c>sweep</c>, <c>poisson</c> or <c>ramp</c>.</summary>
    [JsonPropertyOrder(-5)]
    public string Scenario { get; set; } = "";

    [JsonPropertyOrder(-4)]
    public DateTimeOffset StartedAt { get; set; }

    /// <summary>True when the run was cancelled (Ctrl+C) before its bounds: the metrics cover what finished.</summary>
    [JsonPropertyOrder(-3)]
    public bool Aborted { get; set; }

    [JsonPropertyOrder(-2)]
    public RunConfig Config { get; set; } = new();

    [JsonPropertyOrder(10)]
    public List<StepResult> Steps { get; set; } = [];

    /// <summary>The JSON returned by <c>--cost-url</c>, as is; absent when no cost URL was given.</summary>
    [JsonPropertyOrder(11)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Cost { get; set; }

    /// <summary>
    /// The run's cost in USD when the cost URL is ServeGate's (OpenAI-shaped) costs API: the sum of its amounts over the
    /// run's time window, every line item. Absent otherwise.
    /// </summary>
    [JsonPropertyOrder(11)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public decimal? CostUsd { get; set; }

    /// <summary><see cref="CostUsd"/> per 1M tokens (prompt + output) of this run.</summary>
    [JsonPropertyOrder(11)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public decimal? CostUsdPerMillionTokens { get; set; }

    /// <summary>Why the cost URL could not be read; absent when it was read or not given.</summary>
    [JsonPropertyOrder(12)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CostError { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(RunResult))]
internal sealed partial class ResultJsonContext : JsonSerializerContext;
