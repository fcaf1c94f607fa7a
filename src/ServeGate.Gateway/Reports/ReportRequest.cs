using System.Globalization;
using System.Text;
using Microsoft.Extensions.Primitives;
using ServeGate.Core.OpenAi;

namespace ServeGate.Gateway.Reports;

/// <summary>
/// The query of <c>/v1/organization/usage/completions</c> and <c>/v1/organization/costs</c>, as OpenAI's Usage and Costs
/// APIs take it: <c>start_time</c> (required), <c>end_time</c>, <c>bucket_width</c>, <c>group_by</c>, filters,
/// <c>limit</c> (buckets per page) and the <c>page</c> cursor. Arrays come as repeated keys, <c>key[]</c> or commas.
/// </summary>
internal sealed class ReportRequest
{
    public required DateTimeOffset Start { get; init; }

    public required DateTimeOffset End { get; init; }

    public required TimeSpan BucketWidth { get; init; }

    /// <summary>The first bucket of this page (epoch-aligned).</summary>
    public required DateTimeOffset PageStart { get; init; }

    public required int Limit { get; init; }

    public required IReadOnlySet<string> GroupBy { get; init; }

    public IReadOnlyList<string> Models { get; init; } = [];

    public IReadOnlyList<string> ApiKeyIds { get; init; } = [];

    public IReadOnlyList<string> ProjectIds { get; init; } = [];

    public bool Csv { get; init; }

    /// <summary>The end of this page: <see cref="Limit"/> buckets on, or <see cref="End"/>.</summary>
    public DateTimeOffset PageEnd => PageStart + (BucketWidth * Limit) < End ? PageStart + (BucketWidth * Limit) : End;

    public bool HasMore => PageEnd < End;

    public string NextPage => "page_" + Convert.ToBase64String(Encoding.ASCII.GetBytes(PageEnd.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));

    /// <summary>What each endpoint takes: its widths (with default limit and maximum), its default width and groupings.</summary>
    public sealed record Shape(IReadOnlyDictionary<string, (TimeSpan Width, int DefaultLimit, int MaxLimit)> Widths, string DefaultWidth, IReadOnlyCollection<string> Groupings);

    /// <summary>OpenAI's usage API: 1m (default 60 buckets, at most 1440), 1h (24, 168), 1d (7, 31); 1d by default.</summary>
    public static readonly Shape Completions = new(
        new Dictionary<string, (TimeSpan, int, int)>(StringComparer.Ordinal)
        {
            ["1m"] = (TimeSpan.FromMinutes(1), 60, 1440),
            ["1h"] = (TimeSpan.FromHours(1), 24, 168),
            ["1d"] = (TimeSpan.FromDays(1), 7, 31),
        },
        "1d",
        ["model", "api_key_id", "project_id"]);

    /// <summary>OpenAI's costs API: 1d, 7 buckets by default, at most 180; ServeGate adds 1h and grouping by model and key.</summary>
    public static readonly Shape Costs = new(
        new Dictionary<string, (TimeSpan, int, int)>(StringComparer.Ordinal)
        {
            ["1h"] = (TimeSpan.FromHours(1), 24, 168),
            ["1d"] = (TimeSpan.FromDays(1), 7, 180),
        },
        "1d",
        ["project_id", "line_item", "model", "api_key_id"]);

    private static readonly string[] Known = ["start_time", "end_time", "bucket_width", "group_by", "limit", "page", "models", "api_key_ids", "project_ids", "format"];

    /// <summary>The request, or the 400 to answer (with <c>param</c>).</summary>
    public static (ReportRequest? Request, ApiError? Error) Parse(HttpRequest http, Shape shape, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(shape);
        var query = http.Query;
        foreach (var key in query.Keys)
        {
            var name = key.EndsWith("[]", StringComparison.Ordinal) ? key[..^2] : key;
            if (!Known.Contains(name, StringComparer.Ordinal))
            {
                return (null, ApiError.InvalidRequest($"Unsupported query parameter '{name}'.", name, "unsupported_parameter"));
            }
        }

        if (!TryUnix(query["start_time"], out var start))
        {
            return (null, ApiError.InvalidRequest("start_time is required: the start of the range, in Unix seconds (inclusive).", "start_time"));
        }

        var end = time.GetUtcNow();
        if (!StringValues.IsNullOrEmpty(query["end_time"]) && !TryUnix(query["end_time"], out end))
        {
            return (null, ApiError.InvalidRequest("end_time must be Unix seconds (exclusive).", "end_time"));
        }

        if (end <= start)
        {
            return (null, ApiError.InvalidRequest("end_time must be after start_time.", "end_time"));
        }

        var widthName = query["bucket_width"] is { Count: > 0 } w ? w.ToString() : shape.DefaultWidth;
        if (!shape.Widths.TryGetValue(widthName, out var width))
        {
            return (null, ApiError.InvalidRequest($"bucket_width must be one of {string.Join(", ", shape.Widths.Keys)}.", "bucket_width"));
        }

        var limit = width.DefaultLimit;
        if (query["limit"] is { Count: > 0 } l
            && (!int.TryParse(l.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > width.MaxLimit))
        {
            return (null, ApiError.InvalidRequest($"limit must be from 1 to {width.MaxLimit} with bucket_width {widthName}.", "limit"));
        }

        var groupBy = Values(query, "group_by");
        if (groupBy.FirstOrDefault(g => !shape.Groupings.Contains(g)) is { } unknown)
        {
            return (null, ApiError.InvalidRequest($"group_by '{unknown}' is not supported; use {string.Join(", ", shape.Groupings)}.", "group_by"));
        }

        var firstBucket = Floor(start, width.Width);
        var pageStart = firstBucket;
        if (query["page"] is { Count: > 0 } page)
        {
            if (!TryCursor(page.ToString(), out pageStart) || pageStart < firstBucket || pageStart >= end || Floor(pageStart, width.Width) != pageStart)
            {
                return (null, ApiError.InvalidRequest("page must be a next_page value of an earlier answer to the same query.", "page"));
            }
        }

        var format = query["format"].ToString();
        if (format is not ("" or "json" or "csv"))
        {
            return (null, ApiError.InvalidRequest("format must be json or csv.", "format"));
        }

        return (new ReportRequest
        {
            Start = start,
            End = end,
            BucketWidth = width.Width,
            PageStart = pageStart,
            Limit = limit,
            GroupBy = groupBy.ToHashSet(StringComparer.Ordinal),
            Models = Values(query, "models"),
            ApiKeyIds = Values(query, "api_key_ids"),
            ProjectIds = Values(query, "project_ids"),
            Csv = format == "csv" || (format.Length == 0 && WantsCsv(http)),
        }, null);
    }

    /// <summary><c>Accept: text/csv</c> (and not JSON first).</summary>
    public static bool WantsCsv(HttpRequest http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return http.Headers.Accept.ToString().Contains("text/csv", StringComparison.OrdinalIgnoreCase);
    }

    public static DateTimeOffset Floor(DateTimeOffset at, TimeSpan width) =>
        DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds() / (long)width.TotalMilliseconds * (long)width.TotalMilliseconds);

    public static bool TryUnix(StringValues value, out DateTimeOffset at)
    {
        at = default;
        if (!long.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 253_402_300_799)
        {
            return false;
        }

        at = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }

    private static bool TryCursor(string page, out DateTimeOffset at)
    {
        at = default;
        try
        {
            return page.StartsWith("page_", StringComparison.Ordinal)
                && TryUnix(Encoding.ASCII.GetString(Convert.FromBase64String(page["page_".Length..])), out at);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static List<string> Values(IQueryCollection query, string name) =>
    [
        .. query[name].Concat(query[name + "[]"])
            .SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.Ordinal),
    ];
}
