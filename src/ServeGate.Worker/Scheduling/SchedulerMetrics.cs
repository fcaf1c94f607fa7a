using System.Diagnostics.Metrics;
using ServeGate.Worker.Models;

namespace ServeGate.Worker.Scheduling;

/// <summary>
/// Each loaded model's scheduler, observed when metrics are collected (<c>/metrics</c> in the gateway): requests
/// waiting for a sequence, prefix-cache hits, misses and evictions (also of the host-memory tier), the share of prompt tokens served from the KV cache,
/// decode steps and decode time.
/// </summary>
public sealed class SchedulerMetrics
{
    public const string MeterName = "ServeGate.Worker";

    public SchedulerMetrics(IMeterFactory meters, ModelRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(registry);
        var meter = meters.Create(MeterName);

        IEnumerable<Measurement<T>> PerModel<T>(Func<SchedulerCounters, T> read)
            where T : struct =>
            registry.All.Where(m => m.Scheduler is not null)
                .Select(m => new Measurement<T>(read(m.Scheduler!.Counters), new KeyValuePair<string, object?>("model", m.Id)));

        meter.CreateObservableGauge("servegate.scheduler.queue", () => PerModel(c => c.Queued), "{request}", "Requests waiting for a sequence.");
        meter.CreateObservableCounter("servegate.scheduler.steps", () => PerModel(c => c.Steps), "{step}", "Decode steps (llama_decode calls).");
        meter.CreateObservableCounter("servegate.scheduler.decode_time", () => PerModel(c => c.DecodeSeconds), "s", "Wall time spent in llama_decode.");
        meter.CreateObservableCounter("servegate.kv.prefix_hits", () => PerModel(c => c.PrefixHits), "{request}", "Requests that reused a cached prefix.");
        meter.CreateObservableCounter("servegate.kv.prefix_misses", () => PerModel(c => c.PrefixMisses), "{request}", "Requests that found no cached prefix.");
        meter.CreateObservableCounter("servegate.kv.evictions", () => PerModel(c => c.Evictions), "{prefix}", "Cached prefixes given up for room.");
        meter.CreateObservableCounter("servegate.kv.copies", () => PerModel(c => c.KvCopies), "{copy}", "KV cells copied from one sequence to another (a cached prefix to a lane, a lane's history to a cache slot).");
        meter.CreateObservableCounter("servegate.kv.recomputed_tokens", () => PerModel(c => c.RecomputedTokens), "{token}", "Cached tokens computed again with a short prompt suffix, where a full attention tile measured faster.");
        meter.CreateObservableCounter("servegate.kv.host_saves", () => PerModel(c => c.HostSaves), "{prefix}", "Cached prefixes evicted from the KV cache into host memory.");
        meter.CreateObservableCounter("servegate.kv.host_restores", () => PerModel(c => c.HostRestores), "{request}", "Requests whose prefix was copied back from host memory.");
        meter.CreateObservableCounter("servegate.kv.host_evictions", () => PerModel(c => c.HostEvictions), "{prefix}", "Prefixes dropped from host memory for room.");
        meter.CreateObservableCounter("servegate.kv.host_copy_time", () => PerModel(c => c.HostCopySeconds), "s", "Wall time spent copying KV cells to and from host memory.");
        meter.CreateObservableGauge("servegate.kv.host_bytes", () => PerModel(c => c.HostBytes), "By", "KV cells held in host memory.");
        meter.CreateObservableGauge(
            "servegate.kv.hit_ratio",
            () => PerModel(c => c.PromptTokens == 0 ? 0.0 : (double)c.CachedTokens / c.PromptTokens),
            "1",
            "Prompt tokens served from the KV cache, of all prompt tokens since start.");
    }
}
