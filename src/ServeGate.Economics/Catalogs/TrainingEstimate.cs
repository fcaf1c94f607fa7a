using System.Globalization;
using System.Text.Json.Serialization;

namespace ServeGate.Economics.Catalogs;

/// <summary>
/// A published training-cost estimate, for what-ifs. Given as GPU-hours and a rate where the source gives GPU-hours
/// (the USD is then derived), else as the source's USD figure.
/// </summary>
public sealed class TrainingEstimate
{
    public string Name { get; set; } = string.Empty;

    /// <summary>The accelerator the GPU-hours are of (e.g. "H100-80GB").</summary>
    public string? Gpu { get; set; }

    [JsonPropertyName("gpu_hours")]
    public decimal? GpuHours { get; set; }

    /// <summary>The rate the GPU-hours are converted at (a stated assumption, part of the entry).</summary>
    [JsonPropertyName("usd_per_gpu_hour")]
    public decimal? UsdPerGpuHour { get; set; }

    /// <summary>The source's own USD figure, when it gives no GPU-hours.</summary>
    [JsonPropertyName("published_usd")]
    public decimal? PublishedUsd { get; set; }

    /// <summary>What the estimate covers (e.g. "final run only").</summary>
    public string Scope { get; set; } = string.Empty;

    /// <summary>When the source was published (yyyy-MM-dd).</summary>
    public string Published { get; set; } = string.Empty;

    public string Source { get; set; } = string.Empty;

    /// <summary>GPU-hours x rate, or the published USD.</summary>
    [JsonIgnore]
    public decimal Usd => GpuHours is { } hours && UsdPerGpuHour is { } rate ? hours * rate : PublishedUsd ?? 0m;

    /// <summary>How <see cref="Usd"/> was obtained, for reports.</summary>
    [JsonIgnore]
    public string Derivation => GpuHours is { } hours && UsdPerGpuHour is { } rate
        ? string.Create(CultureInfo.InvariantCulture, $"{hours:N0} {Gpu} GPU-hours x ${rate}/GPU-hour ({Source})")
        : string.Create(CultureInfo.InvariantCulture, $"${PublishedUsd:N0} as published ({Source})");

    internal IEnumerable<string> Validate(string path)
    {
        var hasHours = GpuHours is not null || UsdPerGpuHour is not null;
        if (hasHours && (GpuHours is not > 0 || UsdPerGpuHour is not > 0))
        {
            yield return $"{path}: GpuHours and UsdPerGpuHour must both be positive.";
        }

        if (!hasHours && PublishedUsd is not > 0)
        {
            yield return $"{path}: either GpuHours with UsdPerGpuHour, or PublishedUsd, is needed.";
        }

        if (!Uri.TryCreate(Source, UriKind.Absolute, out _))
        {
            yield return $"{path}:Source must be the URL of the estimate.";
        }

        if (!DateOnly.TryParseExact(Published, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            yield return $"{path}:Published must be the date of the source (yyyy-MM-dd).";
        }
    }
}
