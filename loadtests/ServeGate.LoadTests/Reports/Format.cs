using System.Globalization;

namespace ServeGate.LoadTests.Reports;

/// <summary>Number formatting shared by the Markdown, HTML and console reports (invariant culture, fixed precision).</summary>
internal static class Format
{
    public const string Missing = "-";

    /// <summary>About four significant digits: 1234, 123.4, 12.34, 1.234; whole numbers without decimals.</summary>
    public static string Number(double? value) => value switch
    {
        null => Missing,
        { } v when double.IsNaN(v) || double.IsInfinity(v) => Missing,
        { } v when v == Math.Floor(v) && Math.Abs(v) < 1e15 => v.ToString("0", CultureInfo.InvariantCulture),
        { } v when Math.Abs(v) >= 1000 => v.ToString("0", CultureInfo.InvariantCulture),
        { } v when Math.Abs(v) >= 100 => v.ToString("0.0", CultureInfo.InvariantCulture),
        { } v when Math.Abs(v) >= 10 => v.ToString("0.00", CultureInfo.InvariantCulture),
        { } v => v.ToString("0.000", CultureInfo.InvariantCulture),
    };

    public static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Percent(double? ratio) =>
        ratio is { } r ? (r * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : Missing;

    /// <summary>A ratio of two values as "1.23x"; missing when either is missing or the base is zero.</summary>
    public static string Ratio(double? value, double? baseline) =>
        value is { } v && baseline is { } b && b != 0 ? (v / b).ToString("0.00", CultureInfo.InvariantCulture) + "x" : Missing;

    /// <summary>Escapes a value for a Markdown table cell.</summary>
    public static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
