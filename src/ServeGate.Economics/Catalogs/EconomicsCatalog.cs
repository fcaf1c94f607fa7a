using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace ServeGate.Economics.Catalogs;

/// <summary>
/// The reference list prices and published training-cost estimates: the JSON files embedded beside this class, with
/// entries of the configuration added or replacing those of the same id.
/// </summary>
public sealed class EconomicsCatalog
{
    private EconomicsCatalog(IReadOnlyDictionary<string, ListPrice> listPrices, IReadOnlyDictionary<string, TrainingEstimate> trainingEstimates)
    {
        ListPrices = listPrices;
        TrainingEstimates = trainingEstimates;
    }

    /// <summary>By id (<c>provider/model</c>).</summary>
    public IReadOnlyDictionary<string, ListPrice> ListPrices { get; }

    /// <summary>By id (<c>developer/model</c>).</summary>
    public IReadOnlyDictionary<string, TrainingEstimate> TrainingEstimates { get; }

    /// <summary>The files shipped with ServeGate, unchanged.</summary>
    public static EconomicsCatalog BuiltIn { get; } = new(
        Load("list-prices.json", CatalogJsonContext.Default.DictionaryStringListPrice),
        Load("training-estimates.json", CatalogJsonContext.Default.DictionaryStringTrainingEstimate));

    public ListPrice? ListPrice(string id) => ListPrices.GetValueOrDefault(id);

    public TrainingEstimate? TrainingEstimate(string id) => TrainingEstimates.GetValueOrDefault(id);

    /// <summary>This catalog with <paramref name="listPrices"/> and <paramref name="trainingEstimates"/> added (same id: replaced).</summary>
    public EconomicsCatalog With(IReadOnlyDictionary<string, ListPrice> listPrices, IReadOnlyDictionary<string, TrainingEstimate> trainingEstimates) => new(
        Merge(ListPrices, listPrices),
        Merge(TrainingEstimates, trainingEstimates));

    private static Dictionary<string, T> Merge<T>(IReadOnlyDictionary<string, T> first, IReadOnlyDictionary<string, T> second)
    {
        var merged = new Dictionary<string, T>(first, StringComparer.Ordinal);
        foreach (var (id, entry) in second)
        {
            merged[id] = entry;
        }

        return merged;
    }

    private static Dictionary<string, T> Load<T>(string file, JsonTypeInfo<Dictionary<string, T>> type)
    {
        using var stream = typeof(EconomicsCatalog).Assembly.GetManifestResourceStream("ServeGate.Economics.Catalogs." + file)
            ?? throw new InvalidOperationException($"The catalog {file} is not embedded.");
        var entries = JsonSerializer.Deserialize(stream, type) ?? throw new InvalidOperationException($"The catalog {file} is empty.");
        return new Dictionary<string, T>(entries, StringComparer.Ordinal);
    }
}
