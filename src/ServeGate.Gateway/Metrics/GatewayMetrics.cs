using System.Diagnostics.Metrics;
using ServeGate.Gateway.Metering;
using ServeGate.Gateway.Pipeline;
using ServeGate.Gateway.Routing;
using ServeGate.Ledger;
using ServeGate.Worker.Models;

namespace ServeGate.Gateway.Metrics;

/// <summary>
/// The gateway's instruments (OpenTelemetry-style names and units), fed by every usage record: requests, tokens by
/// type, time to first token, cost and attributed compute per model and worker; plus gauges of requests in flight per
/// worker and usage records waiting to be written. The <c>model</c> label is a served model's id or
/// <see cref="UnknownModel"/>, never what a client typed: each label value is a series in every scraper's memory.
/// </summary>
internal sealed class GatewayMetrics : IUsageObserver
{
    public const string MeterName = "ServeGate.Gateway";

    /// <summary>The <c>model</c> label of a request that named no model this gateway serves.</summary>
    public const string UnknownModel = "unknown";

    private readonly WorkerPool _pool;
    private readonly ModelRegistry? _models;

    private readonly Counter<long> _requests;
    private readonly Counter<long> _tokens;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Counter<double> _cost;
    private readonly Counter<double> _compute;

    public GatewayMetrics(IMeterFactory meters, WorkerPool pool, UsageWriter writer, ModelRegistry? models = null)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(pool);
        _pool = pool;
        _models = models;
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("servegate.requests", "{request}", "Inference requests by outcome.");
        _tokens = meter.CreateCounter<long>("servegate.tokens", "{token}", "Tokens by type: prompt, cached (of the prompt), completion.");
        _timeToFirstToken = meter.CreateHistogram<double>("servegate.time_to_first_token", "s", "Time from request to first content, as the gateway saw it.");
        _cost = meter.CreateCounter<double>("servegate.cost", "USD", "List-price cost at the configured per-token prices.");
        _compute = meter.CreateCounter<double>("servegate.compute", "s", "Compute seconds the workers attributed to requests.");
        meter.CreateObservableGauge("servegate.worker.outstanding", () => pool.Destinations.Select(d => new Measurement<int>(d.Outstanding, new KeyValuePair<string, object?>("worker", d.Url))), "{request}", "Requests in flight per remote worker.");
        meter.CreateObservableGauge("servegate.usage.queue", () => writer.Pending, "{record}", "Usage records waiting for the ledger writer.");
        meter.CreateObservableCounter("servegate.usage.dropped", () => writer.Dropped, "{record}", "Usage records dropped (full queue in Drop mode, or a failed write).");
    }

    public ValueTask OnUsageAsync(GatewayRequest request, UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var model = ModelLabel(record.Model);
        if (_requests.Enabled)
        {
            _requests.Add(1, new("model", model), new("worker", record.Worker), new("outcome", Outcome(record.Outcome)), new("status", record.HttpStatus));
        }

        if (_tokens.Enabled)
        {
            _tokens.Add(record.PromptTokens, new("model", model), new("worker", record.Worker), new("type", "prompt"));
            _tokens.Add(record.CachedTokens, new("model", model), new("worker", record.Worker), new("type", "cached"));
            _tokens.Add(record.CompletionTokens, new("model", model), new("worker", record.Worker), new("type", "completion"));
        }

        if (_timeToFirstToken.Enabled && record.TimeToFirstTokenMs is { } ttft)
        {
            _timeToFirstToken.Record(ttft / 1000, new("model", model), new("worker", record.Worker));
        }

        if (_cost.Enabled)
        {
            _cost.Add((double)record.CostUsd, new("model", model), new("worker", record.Worker));
        }

        if (_compute.Enabled)
        {
            _compute.Add(record.ComputeSeconds, new("model", model), new("worker", record.Worker));
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The model's id when the in-process worker or a registered worker serves it, else <see cref="UnknownModel"/>.</summary>
    private string ModelLabel(string? model) =>
        model is not null && ((_models is not null && _models.TryGet(model, out _)) || _pool.AnyServes(model)) ? model : UnknownModel;

    private static string Outcome(UsageOutcome outcome) => outcome switch
    {
        UsageOutcome.Completed => "completed",
        UsageOutcome.Cancelled => "cancelled",
        _ => "failed",
    };
}
