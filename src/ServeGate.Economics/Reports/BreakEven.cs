using System.Globalization;

namespace ServeGate.Economics.Reports;

/// <summary>When cumulative inference spend (busy + idle) reaches the training cost, projected at the observed spend rate.</summary>
public sealed record BreakEven
{
    /// <summary>Spend has already reached the training cost.</summary>
    public bool Reached { get; init; }

    /// <summary>When it was (reached) or will be (projected) reached; null when not within <see cref="HorizonYears"/>.</summary>
    public DateTimeOffset? Date { get; init; }

    public int HorizonYears { get; init; }

    public decimal TrainingCostUsd { get; init; }

    public decimal InferenceSpendUsd { get; init; }

    /// <summary>Inference spend per day since the first request of the period.</summary>
    public decimal InferenceUsdPerDay { get; init; }

    /// <summary>The projection in words, with its inputs.</summary>
    public required string Summary { get; init; }

    /// <summary>
    /// Spend <paramref name="spent"/> since <paramref name="first"/> gives a daily rate; the date is where that rate
    /// reaches <paramref name="trainingCost"/> (over at least an hour: a burst at start is not a rate).
    /// </summary>
    public static BreakEven Project(decimal trainingCost, decimal spent, DateTimeOffset first, DateTimeOffset now, int horizonYears)
    {
        var days = Math.Max((now - first).TotalDays, 1.0 / 24);
        var perDay = spent / (decimal)days;
        var inputs = string.Create(CultureInfo.InvariantCulture, $"training ${trainingCost:0.######}, inference ${spent:0.######} over {days:0.###} days (${perDay:0.######}/day)");
        if (trainingCost <= 0)
        {
            return new BreakEven { Reached = true, Date = first, HorizonYears = horizonYears, TrainingCostUsd = trainingCost, InferenceSpendUsd = spent, InferenceUsdPerDay = perDay, Summary = "no training cost to recover: " + inputs };
        }

        if (spent >= trainingCost)
        {
            var at = first + TimeSpan.FromDays((double)(trainingCost / perDay));
            return new BreakEven { Reached = true, Date = at, HorizonYears = horizonYears, TrainingCostUsd = trainingCost, InferenceSpendUsd = spent, InferenceUsdPerDay = perDay, Summary = "reached: " + inputs };
        }

        var left = perDay > 0 ? (double)((trainingCost - spent) / perDay) : double.PositiveInfinity;
        if (left > horizonYears * 365.25)
        {
            return new BreakEven
            {
                HorizonYears = horizonYears, TrainingCostUsd = trainingCost, InferenceSpendUsd = spent, InferenceUsdPerDay = perDay,
                Summary = string.Create(CultureInfo.InvariantCulture, $"not within {horizonYears} years: ") + inputs,
            };
        }

        return new BreakEven
        {
            Date = now + TimeSpan.FromDays(left), HorizonYears = horizonYears, TrainingCostUsd = trainingCost, InferenceSpendUsd = spent, InferenceUsdPerDay = perDay,
            Summary = string.Create(CultureInfo.InvariantCulture, $"projected in {left:0.#} days: ") + inputs,
        };
    }
}
