using System.Text.Json.Serialization;

namespace ServeGate.Gateway.Reports;

// The wire shapes of OpenAI's Usage and Costs APIs (one page of time buckets). Small DTOs, kept together.

/// <summary>A page of <c>/v1/organization/usage/completions</c>.</summary>
internal sealed class CompletionsUsagePage
{
    public string Object { get; init; } = "page";

    public required IReadOnlyList<CompletionsUsageBucket> Data { get; init; }

    public bool HasMore { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? NextPage { get; init; }
}

internal sealed class CompletionsUsageBucket
{
    public string Object { get; init; } = "bucket";

    public long StartTime { get; init; }

    public long EndTime { get; init; }

    public required IReadOnlyList<CompletionsUsageResult> Results { get; init; }
}

/// <summary>One group's sums in a bucket; fields OpenAI has and ServeGate does not (audio, users, batch) are 0 or null.</summary>
internal sealed class CompletionsUsageResult
{
    public string Object { get; init; } = "organization.usage.completions.result";

    public long InputTokens { get; init; }

    public long OutputTokens { get; init; }

    public long InputCachedTokens { get; init; }

    public long InputAudioTokens { get; init; }

    public long OutputAudioTokens { get; init; }

    public long NumModelRequests { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? ProjectId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? UserId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? ApiKeyId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Model { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public bool? Batch { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? ServiceTier { get; init; }
}

/// <summary>A page of <c>/v1/organization/costs</c>.</summary>
internal sealed class CostsPage
{
    public string Object { get; init; } = "page";

    public required IReadOnlyList<CostsBucket> Data { get; init; }

    public bool HasMore { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? NextPage { get; init; }
}

internal sealed class CostsBucket
{
    public string Object { get; init; } = "bucket";

    public long StartTime { get; init; }

    public long EndTime { get; init; }

    public required IReadOnlyList<CostsResult> Results { get; init; }
}

/// <summary>One cost in a bucket; <c>model</c> and <c>api_key_id</c> (ServeGate's groupings) appear only when grouped by them.</summary>
internal sealed class CostsResult
{
    public string Object { get; init; } = "organization.costs.result";

    public required CostsAmount Amount { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? LineItem { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? ProjectId { get; init; }

    public string? Model { get; init; }

    public string? ApiKeyId { get; init; }
}

internal sealed class CostsAmount
{
    public decimal Value { get; init; }

    public string Currency { get; init; } = "usd";
}
