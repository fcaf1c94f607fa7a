using ServeGate.Economics.Catalogs;

namespace ServeGate.Economics.Configuration;

/// <summary>
/// <see cref="EconomicsOptions"/> resolved once: the catalogs merged, every model mapped to its checkpoint, and the
/// embedded defaults filled in where the configuration says nothing (each flagged as such in its source text).
/// </summary>
public sealed class EconomicsSettings
{
    /// <summary>The in-process worker's pool.</summary>
    public const string LocalPool = "local";

    /// <summary>
    /// The default price of <see cref="LocalPool"/>: a 2-vCPU cloud VM like the machines ServeGate is built on (AWS EC2
    /// c7i.large on-demand, us-east-1, Linux). A price the reader should replace with their own.
    /// </summary>
    public const decimal DefaultLocalUsdPerHour = 0.08925m;

    public const string DefaultLocalSource =
        "configured default: AWS EC2 c7i.large (2 vCPU, 4 GiB) on-demand, us-east-1, Linux, $0.08925/hour (https://aws.amazon.com/ec2/pricing/on-demand/); set ServeGate:Economics:Pools:local";

    public const string NotConfigured = "not configured";

    /// <summary>The embedded demo models' checkpoint (ids as in ServeGate.Worker's DemoModels, which this project may not reference).</summary>
    public const string DemoCheckpoint = "servegate-demo";

    public static readonly IReadOnlyList<string> DemoModels = ["servegate-demo-base", "servegate-demo-instruct"];

    /// <summary>The what-if the demo models carry unless configured otherwise.</summary>
    public const string DemoWhatIf = "meta/llama-3.1-405b";

    private readonly Dictionary<string, PoolPrice> _pools = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModelEconomics> _models = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Id, CheckpointOptions Options)> _checkpointOf = new(StringComparer.Ordinal);

    private EconomicsSettings(EconomicsOptions options, EconomicsCatalog catalog)
    {
        Options = options;
        Catalog = catalog;
        foreach (var (name, pool) in options.Pools)
        {
            _pools[name] = new PoolPrice(name, pool.UsdPerHour, pool.Source.Length > 0 ? pool.Source : "configured", IsConfiguredDefault: false);
        }

        _pools.TryAdd(LocalPool, new PoolPrice(LocalPool, DefaultLocalUsdPerHour, DefaultLocalSource, IsConfiguredDefault: true));
        var checkpoints = new Dictionary<string, CheckpointOptions>(options.Checkpoints, StringComparer.Ordinal);
        if (!options.Checkpoints.Values.Any(c => DemoModels.Any(c.Variants.ContainsKey)))
        {
            checkpoints.TryAdd(DemoCheckpoint, DemoCheckpointOptions());
        }

        foreach (var (id, checkpoint) in checkpoints)
        {
            foreach (var model in checkpoint.Variants.Keys)
            {
                _checkpointOf.TryAdd(model, (id, checkpoint));
            }
        }
    }

    public EconomicsOptions Options { get; }

    /// <summary>The built-in catalogs with the configuration's entries added.</summary>
    public EconomicsCatalog Catalog { get; }

    public int BreakEvenHorizonYears => Options.BreakEvenHorizonYears;

    /// <summary>Resolves <paramref name="options"/> over the built-in catalogs (validate them first: invalid references resolve to none).</summary>
    public static EconomicsSettings Create(EconomicsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new EconomicsSettings(options, EconomicsCatalog.BuiltIn.With(options.ListPrices, options.TrainingEstimates));
    }

    /// <summary>The pool's price; a pool no setting names costs 0 ("not configured").</summary>
    public PoolPrice PoolOf(string pool) => _pools.TryGetValue(pool, out var price) ? price : new PoolPrice(pool, 0m, NotConfigured, IsConfiguredDefault: false);

    /// <summary>The model's economics; a model no checkpoint names is its own checkpoint with no training cost ("not configured").</summary>
    public ModelEconomics ModelOf(string model)
    {
        lock (_models)
        {
            if (!_models.TryGetValue(model, out var economics))
            {
                economics = Resolve(model);
                if (_models.Count < 10_000)
                {
                    _models[model] = economics; // bounded: model ids come from requests, refused or not
                }
            }

            return economics;
        }
    }

    private ModelEconomics Resolve(string model)
    {
        var (id, checkpoint) = _checkpointOf.TryGetValue(model, out var owner)
            ? owner
            : (model, new CheckpointOptions { PretrainingSource = NotConfigured, Variants = { [model] = new VariantOptions { PostTrainingSource = NotConfigured } } });
        var variant = checkpoint.Variants[model];
        var reference = variant.ListPriceReference is { Length: > 0 } own ? own : Options.ListPriceReference;
        var whatIf = Options.WhatIf.TryGetValue(model, out var configured) ? configured : DemoModels.Contains(model) ? DemoWhatIf : null;
        return new ModelEconomics
        {
            Model = model,
            Checkpoint = id,
            CheckpointOptions = checkpoint,
            Variant = variant,
            Variants = [.. checkpoint.Variants.Keys.Order(StringComparer.Ordinal)],
            ListPriceReference = reference,
            ListPrice = Catalog.ListPrice(reference),
            WhatIfEstimate = whatIf,
            WhatIf = whatIf is null ? null : Catalog.TrainingEstimate(whatIf),
        };
    }

    private static CheckpointOptions DemoCheckpointOptions()
    {
        const string Untrained = "configured default: random weights written by ServeGate at first start, never trained (0 USD)";
        var checkpoint = new CheckpointOptions { PretrainingCostUsd = 0, PretrainingSource = Untrained };
        foreach (var model in DemoModels)
        {
            checkpoint.Variants[model] = new VariantOptions { PostTrainingSource = Untrained };
        }

        return checkpoint;
    }
}
