using System.Globalization;

namespace ServeGate.LoadTests.Workload;

/// <summary>
/// A length in tokens, fixed or drawn from a distribution: <c>256</c>, <c>uniform:128:512</c> (inclusive)
/// or <c>normal:256:64</c> (mean, standard deviation; rounded and clamped to at least 1).
/// </summary>
internal sealed class LengthDistribution
{
    private readonly double _a;
    private readonly double _b;

    private LengthDistribution(string kind, double a, double b, string text)
    {
        Kind = kind;
        _a = a;
        _b = b;
        Text = text;
    }

    /// <summary><c>fixed</c>, <c>uniform</c> or <c>normal</c>.</summary>
    public string Kind { get; }

    /// <summary>The text the distribution was parsed from, normalised, as written in the report's config.</summary>
    public string Text { get; }

    /// <summary>The largest value <see cref="Sample"/> returns in practice (normal: mean + 4 standard deviations).</summary>
    public int UpperBound => Kind switch
    {
        "fixed" => (int)_a,
        "uniform" => (int)_b,
        _ => Math.Max(1, (int)Math.Ceiling(_a + (4 * _b))),
    };

    public static LengthDistribution Fixed(int value) =>
        new("fixed", value, value, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Parses a distribution; returns false with a message a user can act on.</summary>
    public static bool TryParse(string? text, out LengthDistribution? distribution, out string error)
    {
        distribution = null;
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty; expected N, uniform:MIN:MAX or normal:MEAN:STDDEV";
            return false;
        }

        var parts = text.Trim().Split(':');
        if (parts.Length == 1)
        {
            if (!TryPositive(parts[0], out var n))
            {
                error = $"'{text}' is not a positive whole number; expected N, uniform:MIN:MAX or normal:MEAN:STDDEV";
                return false;
            }

            distribution = Fixed(n);
            return true;
        }

        var kind = parts[0].ToLowerInvariant();
        if (kind is not ("uniform" or "normal" or "fixed"))
        {
            error = $"unknown distribution '{parts[0]}' in '{text}'; expected N, uniform:MIN:MAX or normal:MEAN:STDDEV";
            return false;
        }

        if (kind == "fixed")
        {
            if (parts.Length != 2 || !TryPositive(parts[1], out var f))
            {
                error = $"'{text}' should be fixed:N with N a positive whole number";
                return false;
            }

            distribution = Fixed(f);
            return true;
        }

        if (parts.Length != 3)
        {
            error = $"'{text}' should have two numbers: {kind}:{(kind == "uniform" ? "MIN:MAX" : "MEAN:STDDEV")}";
            return false;
        }

        if (kind == "uniform")
        {
            if (!TryPositive(parts[1], out var min) || !TryPositive(parts[2], out var max) || min > max)
            {
                error = $"'{text}' should be uniform:MIN:MAX with whole numbers 1 <= MIN <= MAX";
                return false;
            }

            distribution = new LengthDistribution("uniform", min, max, $"uniform:{min}:{max}");
            return true;
        }

        if (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var mean) || mean < 1 ||
            !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var stddev) || stddev < 0 ||
            double.IsInfinity(mean) || double.IsInfinity(stddev))
        {
            error = $"'{text}' should be normal:MEAN:STDDEV with MEAN >= 1 and STDDEV >= 0";
            return false;
        }

        distribution = new LengthDistribution(
            "normal", mean, stddev,
            string.Create(CultureInfo.InvariantCulture, $"normal:{mean}:{stddev}"));
        return true;
    }

    /// <summary>Draws one length (always at least 1) from <paramref name="random"/>.</summary>
    public int Sample(Random random)
    {
        switch (Kind)
        {
            case "fixed":
                return (int)_a;
            case "uniform":
                return random.Next((int)_a, (int)_b + 1);
            default:
                // Box-Muller: two uniform draws give one standard normal draw.
                var u1 = 1.0 - random.NextDouble();
                var u2 = random.NextDouble();
                var z = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
                var value = (int)Math.Round(_a + (_b * z));
                return Math.Clamp(value, 1, UpperBound);
        }
    }

    public override string ToString() => Text;

    private static bool TryPositive(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1;
}
