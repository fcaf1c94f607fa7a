using System.Text.RegularExpressions;

namespace ServeGate.Gateway.Tests;

/// <summary><c>GET /metrics</c> in Prometheus text format, fed by the same usage records as the ledger.</summary>
[Collection(SharedGatewayCollection.Name)]
public sealed class MetricsTests(SharedGateway shared)
{
    [Fact]
    public async Task Metrics_AfterRequests_ExposesRequestsTokensTtftAndCostPerModel()
    {
        using var response = await shared.Host.PostAsync("/v1/completions", new { model = GatewayHost.BaseModel, prompt = "Hello", max_tokens = 3, stream = true });
        await GatewayHost.ReadEventsAsync(response);

        // The record reaches the counters right after the response ends, on another thread: wait for it, boundedly.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string text;
        while (true)
        {
            text = await shared.Host.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            if (Regex.IsMatch(text, "servegate_requests_total\\{model=\"tiny-base\",outcome=\"completed\"") || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Contains("# TYPE servegate_requests_total counter", text, StringComparison.Ordinal);
        Assert.Matches("servegate_requests_total\\{model=\"tiny-base\",outcome=\"completed\",status=\"200\",worker=\"local\"\\} [1-9]", text);
        Assert.Matches("servegate_tokens_total\\{model=\"tiny-base\",type=\"completion\",worker=\"local\"\\} [1-9]", text);
        Assert.Contains("servegate_tokens_total{model=\"tiny-base\",type=\"cached\",worker=\"local\"}", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE servegate_time_to_first_token_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("servegate_time_to_first_token_seconds_bucket{model=\"tiny-base\",worker=\"local\",le=\"+Inf\"}", text, StringComparison.Ordinal);
        Assert.Contains("servegate_cost_usd_total{model=\"tiny-base\",worker=\"local\"}", text, StringComparison.Ordinal);
        Assert.Contains("servegate_usage_queue ", text, StringComparison.Ordinal);

        // The in-process worker's scheduler: queue depth and the prefix cache.
        Assert.Contains("servegate_scheduler_queue{model=\"tiny-base\"}", text, StringComparison.Ordinal);
        Assert.Matches("servegate_scheduler_steps_total\\{model=\"tiny-base\"\\} [1-9]", text);
        Assert.Contains("servegate_kv_prefix_hits_total{model=\"tiny-base\"}", text, StringComparison.Ordinal);
        Assert.Matches("servegate_kv_prefix_misses_total\\{model=\"tiny-base\"\\} [1-9]", text);
        Assert.Contains("servegate_kv_hit_ratio{model=\"tiny-base\"}", text, StringComparison.Ordinal);
        Assert.Contains("servegate_kv_copies_total{model=\"tiny-base\"}", text, StringComparison.Ordinal);
        Assert.Contains("servegate_kv_recomputed_tokens_total{model=\"tiny-base\"}", text, StringComparison.Ordinal);
    }
}
