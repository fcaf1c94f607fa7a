using System.Globalization;
using ServeGate.Economics.Configuration;
using ServeGate.Economics.Pricing;

namespace ServeGate.Economics.Reports;

/// <summary>
/// Builds the <see cref="EconomicsReport"/> from the ledger's totals of a period, pure: the same inputs give the same
/// report. Money already priced per record (busy cost, savings, amortized training, list price) is summed, not
/// re-priced; idle cost, training costs and break-even come from the settings.
/// </summary>
public sealed class EconomicsReportBuilder(EconomicsSettings settings)
{
    /// <summary>The report of <paramref name="totals"/> (per model and pool) with each pool's <paramref name="uptime"/>, as of <paramref name="now"/>.</summary>
    public EconomicsReport Build(IReadOnlyList<ModelUsageTotals> totals, IReadOnlyList<PoolUptimeTotal> uptime, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(totals);
        ArgumentNullException.ThrowIfNull(uptime);
        var pools = BuildPools(totals, uptime);
        var idleOf = IdleByRow(totals, pools);
        var checkpoints = totals
            .GroupBy(t => settings.ModelOf(t.Model).Checkpoint, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => BuildCheckpoint(g.Key, [.. g], idleOf, now))
            .ToList();
        return new EconomicsReport { GeneratedAt = now, Pools = pools, Checkpoints = checkpoints };
    }

    private List<PoolEconomics> BuildPools(IReadOnlyList<ModelUsageTotals> totals, IReadOnlyList<PoolUptimeTotal> uptime)
    {
        var names = totals.Select(t => t.Pool).Concat(uptime.Select(u => u.Pool)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var pools = new List<PoolEconomics>();
        foreach (var name in names)
        {
            var configured = settings.PoolOf(name);
            var up = uptime.Where(u => u.Pool == name).ToList();
            var seconds = up.Sum(u => Math.Max(0, u.UptimeSeconds));
            var price = up.Select(u => u.HardwareUsdPerHour).LastOrDefault(p => p is not null) ?? configured.UsdPerHour;
            var rows = totals.Where(t => t.Pool == name).ToList();
            var busy = rows.Sum(r => r.InferenceCostUsd);
            var compute = rows.Sum(r => r.ComputeSeconds);
            pools.Add(new PoolEconomics
            {
                Pool = name,
                HardwareUsdPerHour = price,
                HardwareSource = configured.Source,
                UptimeSeconds = seconds,
                ComputeSeconds = compute,
                InferenceCostUsd = busy,
                IdleCostUsd = CostFormulas.IdleCost(seconds, price, busy),
                Utilization = seconds > 0 ? Math.Min(1, compute / seconds) : 0,
            });
        }

        return pools;
    }

    /// <summary>Each pool's idle cost split across the rows it served, by their share of its busy cost.</summary>
    private static Dictionary<ModelUsageTotals, decimal> IdleByRow(IReadOnlyList<ModelUsageTotals> totals, List<PoolEconomics> pools)
    {
        var idle = new Dictionary<ModelUsageTotals, decimal>(ReferenceEqualityComparer.Instance);
        foreach (var pool in pools)
        {
            foreach (var row in totals.Where(t => t.Pool == pool.Pool))
            {
                idle[row] = pool.InferenceCostUsd > 0 ? pool.IdleCostUsd * row.InferenceCostUsd / pool.InferenceCostUsd : 0m;
            }
        }

        return idle;
    }

    private CheckpointEconomics BuildCheckpoint(string id, List<ModelUsageTotals> rows, Dictionary<ModelUsageTotals, decimal> idleOf, DateTimeOffset now)
    {
        var first = settings.ModelOf(rows[0].Model);
        var options = first.CheckpointOptions;
        var checkpointTokens = rows.Sum(r => r.InputTokens + r.OutputTokens);
        var variants = rows
            .GroupBy(r => r.Model, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => BuildVariant(settings.ModelOf(g.Key), [.. g], checkpointTokens, rows, idleOf, now))
            .ToList();
        var training = (options.PretrainingCostUsd + first.Variants.Sum(v => options.Variants[v].PostTrainingCostUsd)) * options.RdMultiplier;
        var amortized = variants.Sum(v => v.AmortizedTrainingUsd);
        var spend = variants.Sum(v => v.InferenceCostUsd + v.IdleCostUsd);
        return new CheckpointEconomics
        {
            Checkpoint = id,
            Requests = variants.Sum(v => v.Requests),
            Tokens = checkpointTokens,
            ComputeSeconds = variants.Sum(v => v.ComputeSeconds),
            InferenceCostUsd = variants.Sum(v => v.InferenceCostUsd),
            IdleCostUsd = variants.Sum(v => v.IdleCostUsd),
            ListPriceUsd = variants.Sum(v => v.ListPriceUsd),
            CacheSavingsUsd = variants.Sum(v => v.CacheSavingsUsd),
            PretrainingCostUsd = options.PretrainingCostUsd,
            PretrainingSource = first.PretrainingSource,
            TrainingCostUsd = training,
            AmortizedTrainingUsd = amortized,
            UnamortizedTrainingUsd = Math.Max(0, training - amortized),
            BreakEven = BreakEven.Project(training, spend, rows.Min(r => r.First), now, settings.BreakEvenHorizonYears),
            Variants = variants,
        };
    }

    private VariantEconomics BuildVariant(
        ModelEconomics model, List<ModelUsageTotals> rows, long checkpointTokens, List<ModelUsageTotals> checkpointRows,
        Dictionary<ModelUsageTotals, decimal> idleOf, DateTimeOffset now)
    {
        var c = CultureInfo.InvariantCulture;
        var options = model.CheckpointOptions;
        var n = model.Variants.Count;
        var tokens = rows.Sum(r => r.InputTokens + r.OutputTokens);
        var compute = rows.Sum(r => r.ComputeSeconds);
        var busy = rows.Sum(r => r.InferenceCostUsd);
        var idle = rows.Sum(r => idleOf[r]);
        var list = rows.Sum(r => r.ListPriceUsd);
        var amortized = rows.Sum(r => r.TrainingShareUsd);
        var firstSeen = rows.Min(r => r.First);
        var perHour = compute > 0 ? busy * 3600m / CostFormulas.ToDecimal(compute) : settings.PoolOf(rows[0].Pool).UsdPerHour;

        var pretrainingShare = options.Split == Configuration.PretrainingSplit.Equally || checkpointTokens == 0
            ? options.PretrainingCostUsd / n
            : options.PretrainingCostUsd * tokens / checkpointTokens;
        var postTraining = model.Variant.PostTrainingCostUsd;
        var training = (pretrainingShare + postTraining) * options.RdMultiplier;
        var breakEven = BreakEven.Project(training, busy + idle, firstSeen, now, settings.BreakEvenHorizonYears);

        var inputs = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["inference_cost_usd"] = string.Create(c, $"sum over requests of compute_seconds x hardware_usd_per_hour / 3600 ({compute:0.######} s at ${perHour:0.#####}/h)"),
            ["idle_cost_usd"] = "each pool's up-time x price minus its busy cost, split by busy share (see pools)",
            ["list_price_usd"] = model.ListPrice is { } lp
                ? string.Create(c, $"{model.ListPriceReference}: ${lp.Input}/${lp.CachedInput}/${lp.Output} per 1M input/cached/output tokens, published {lp.Published} ({lp.Source})")
                : "no list price chosen",
            ["training_cost_usd"] = string.Create(c, $"(pretraining share ${pretrainingShare:0.##} ({options.Split}, {n} variants) + post-training ${postTraining:0.##}) x R&D multiplier {options.RdMultiplier}"),
            ["amortized_training_usd"] = string.Create(c, $"sum over requests of tokens x training USD/token at the time ({options.Basis} basis)"),
            ["break_even"] = breakEven.Summary,
        };

        return new VariantEconomics
        {
            Model = model.Model,
            Checkpoint = model.Checkpoint,
            Pools = [.. rows.Select(r => r.Pool).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            Requests = rows.Sum(r => r.Requests),
            Tokens = tokens,
            InputTokens = rows.Sum(r => r.InputTokens),
            CachedTokens = rows.Sum(r => r.CachedTokens),
            OutputTokens = rows.Sum(r => r.OutputTokens),
            ComputeSeconds = compute,
            HardwareUsdPerHour = perHour,
            InferenceCostUsd = busy,
            IdleCostUsd = idle,
            Utilization = busy + idle > 0 ? (double)(busy / (busy + idle)) : 0,
            UsdPerMillionTokensBusy = PerMillion(busy, tokens),
            UsdPerMillionTokensWithIdle = PerMillion(busy + idle, tokens),
            UsdPerMillionTokensListPrice = PerMillion(list, tokens),
            ListPriceReference = model.ListPrice is null ? string.Empty : model.ListPriceReference,
            ListPriceUsd = list,
            CacheSavingsUsd = rows.Sum(r => r.CacheSavingsUsd),
            PretrainingShareUsd = pretrainingShare,
            PostTrainingCostUsd = postTraining,
            TrainingCostUsd = training,
            TrainingSource = postTraining > 0 ? $"{model.PretrainingSource}; post-training: {model.Variant.PostTrainingSource}" : model.PretrainingSource,
            AmortizedTrainingUsd = amortized,
            UnamortizedTrainingUsd = Math.Max(0, training - amortized),
            BreakEven = breakEven,
            WhatIf = WhatIf(model, tokens, busy + idle, firstSeen, checkpointRows, now),
            Inputs = inputs,
        };
    }

    /// <summary>The traffic against a catalog training cost, amortized over the same basis (rates observed in the period).</summary>
    private WhatIfEconomics? WhatIf(ModelEconomics model, long tokens, decimal spend, DateTimeOffset firstSeen, List<ModelUsageTotals> checkpointRows, DateTimeOffset now)
    {
        if (model.WhatIf is not { } estimate || model.WhatIfEstimate is not { } id)
        {
            return null;
        }

        double Rate(string variant)
        {
            var rows = checkpointRows.Where(r => r.Model == variant).ToList();
            return rows.Count == 0 ? 0 : rows.Sum(r => r.InputTokens + r.OutputTokens) / Math.Max((now - rows.Min(r => r.First)).TotalSeconds, RunningTokenRate.MinimumWindow.TotalSeconds);
        }

        var asIf = model with
        {
            CheckpointOptions = new CheckpointOptions
            {
                PretrainingCostUsd = estimate.Usd,
                Basis = model.CheckpointOptions.Basis,
                LifetimeTokens = model.CheckpointOptions.LifetimeTokens,
                Months = model.CheckpointOptions.Months,
            },
            Variant = new VariantOptions(),
            Variants = [model.Model],
        };
        var rate = Amortization.PerToken(asIf, Rate);
        return new WhatIfEconomics
        {
            Estimate = id,
            Name = estimate.Name,
            TrainingCostUsd = estimate.Usd,
            Source = estimate.Derivation,
            AmortizedTrainingUsd = tokens * rate.UsdPerToken,
            BreakEven = BreakEven.Project(estimate.Usd, spend, firstSeen, now, settings.BreakEvenHorizonYears),
        };
    }

    private static decimal PerMillion(decimal usd, long tokens) => tokens > 0 ? usd * 1_000_000m / tokens : 0m;
}
