using ServeGate.Economics.Catalogs;

namespace ServeGate.Economics.Configuration;

/// <summary>
/// What serving and training cost: hardware prices per worker pool, training costs per model checkpoint, and the
/// catalogs' additions. Bound from <c>ServeGate:Economics</c>; anything missing is priced with what is known, never refused.
/// </summary>
public sealed class EconomicsOptions
{
    public const string SectionName = "ServeGate:Economics";

    /// <summary>Hardware prices by pool name (<c>local</c> is the in-process worker; a remote worker's pool is its <c>Pool</c> or URL).</summary>
    public Dictionary<string, PoolOptions> Pools { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Model checkpoints by id, each with the variants (model ids) served from it.</summary>
    public Dictionary<string, CheckpointOptions> Checkpoints { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The list-price catalog entry (e.g. <c>openai/gpt-4o-mini</c>) that every model's traffic is compared with, unless its variant names another.</summary>
    public string ListPriceReference { get; set; } = "openai/gpt-4o-mini";

    /// <summary>List prices added to the built-in catalog, or replacing an entry of the same id.</summary>
    public Dictionary<string, ListPrice> ListPrices { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Training-cost estimates added to the built-in catalog, or replacing an entry of the same id.</summary>
    public Dictionary<string, TrainingEstimate> TrainingEstimates { get; set; } = new(StringComparer.Ordinal);

    /// <summary>What-ifs: model id → training-estimate id ("price this traffic as if it were Llama 3.1 405B").</summary>
    public Dictionary<string, string> WhatIf { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How far ahead a break-even date is projected before the report says "not within N years".</summary>
    public int BreakEvenHorizonYears { get; set; } = 10;

    /// <summary>Problems with these settings, all at once (<paramref name="catalog"/>: the built-in entries the settings may name).</summary>
    public IEnumerable<string> Validate(EconomicsCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        const string Section = SectionName;
        foreach (var (name, pool) in Pools)
        {
            foreach (var error in pool.Validate($"{Section}:Pools:{name}"))
            {
                yield return error;
            }
        }

        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, checkpoint) in Checkpoints)
        {
            foreach (var error in checkpoint.Validate($"{Section}:Checkpoints:{id}"))
            {
                yield return error;
            }

            foreach (var (model, variant) in checkpoint.Variants)
            {
                if (!owners.TryAdd(model, id))
                {
                    yield return $"{Section}:Checkpoints:{id}:Variants:{model}: the model is already a variant of checkpoint '{owners[model]}'.";
                }

                if (variant.ListPriceReference is { Length: > 0 } reference && !HasListPrice(catalog, reference))
                {
                    yield return $"{Section}:Checkpoints:{id}:Variants:{model}:ListPriceReference '{reference}' is not in the list-price catalog.";
                }
            }
        }

        if (ListPriceReference.Length > 0 && !HasListPrice(catalog, ListPriceReference))
        {
            yield return $"{Section}:ListPriceReference '{ListPriceReference}' is not in the list-price catalog.";
        }

        foreach (var (id, price) in ListPrices)
        {
            foreach (var error in price.Validate($"{Section}:ListPrices:{id}"))
            {
                yield return error;
            }
        }

        foreach (var (id, estimate) in TrainingEstimates)
        {
            foreach (var error in estimate.Validate($"{Section}:TrainingEstimates:{id}"))
            {
                yield return error;
            }
        }

        foreach (var (model, estimate) in WhatIf)
        {
            if (!TrainingEstimates.ContainsKey(estimate) && catalog.TrainingEstimate(estimate) is null)
            {
                yield return $"{Section}:WhatIf:{model} '{estimate}' is not in the training-estimate catalog.";
            }
        }

        if (BreakEvenHorizonYears is < 1 or > 1000)
        {
            yield return $"{Section}:BreakEvenHorizonYears must be between 1 and 1000.";
        }
    }

    private bool HasListPrice(EconomicsCatalog catalog, string id) => ListPrices.ContainsKey(id) || catalog.ListPrice(id) is not null;
}
