using System.Globalization;
using System.Text.Json.Serialization;

namespace ServeGate.Economics.Catalogs;

/// <summary>A public API's list price, USD per 1M tokens, dated and sourced: what the same traffic would cost bought by the token.</summary>
public sealed class ListPrice
{
    /// <summary>Display name (e.g. "OpenAI GPT-4o mini").</summary>
    public string Name { get; set; } = string.Empty;

    public decimal Input { get; set; }

    /// <summary>Prompt tokens the provider serves from its cache.</summary>
    [JsonPropertyName("cached_input")]
    public decimal CachedInput { get; set; }

    public decimal Output { get; set; }

    /// <summary>When the price was published as the list price (yyyy-MM-dd); prices change: check <see cref="Source"/>.</summary>
    public string Published { get; set; } = string.Empty;

    public string Source { get; set; } = string.Empty;

    /// <summary>(uncached input x input + cached x cached input + output x output) / 1M.</summary>
    public decimal Cost(long promptTokens, long cachedTokens, long completionTokens)
    {
        var cached = Math.Clamp(cachedTokens, 0, Math.Max(promptTokens, 0));
        return ((promptTokens - cached) * Input + cached * CachedInput + completionTokens * Output) / 1_000_000m;
    }

    internal IEnumerable<string> Validate(string path)
    {
        if (Input < 0 || CachedInput < 0 || Output < 0)
        {
            yield return $"{path}: prices must not be negative.";
        }

        if (!Uri.TryCreate(Source, UriKind.Absolute, out _))
        {
            yield return $"{path}:Source must be the URL the price was read from.";
        }

        if (!DateOnly.TryParseExact(Published, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            yield return $"{path}:Published must be the date the price was published (yyyy-MM-dd).";
        }
    }
}
