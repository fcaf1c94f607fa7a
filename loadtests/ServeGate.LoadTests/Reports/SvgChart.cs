using System.Globalization;
using System.Net;
using System.Text;

namespace ServeGate.LoadTests.Reports;

/// <summary>One line of a line chart: a value (or a gap) per x category.</summary>
internal sealed record ChartSeries(string Name, IReadOnlyList<double?> Values);

/// <summary>
/// Small inline SVG charts for the HTML reports, drawn here so a report needs no script or outside resource:
/// line charts over categories (steps) and histograms.
/// </summary>
internal static class SvgChart
{
    private const double Width = 560;
    private const double Height = 300;
    private const double Left = 64;
    private const double Right = 16;
    private const double Top = 40;
    private const double Bottom = 52;
    private const double PlotWidth = Width - Left - Right;
    private const double PlotHeight = Height - Top - Bottom;

    private static readonly string[] Palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

    /// <summary>A line chart with one point per category in <paramref name="categories"/>, y from zero.</summary>
    public static string Line(string title, string xTitle, string yTitle, IReadOnlyList<string> categories, IReadOnlyList<ChartSeries> series)
    {
        var max = series.SelectMany(s => s.Values).Where(v => v is not null).Select(v => v!.Value).DefaultIfEmpty(0).Max();
        var (yMax, yStep) = NiceScale(max);
        var svg = Begin(title);
        YAxis(svg, yMax, yStep, yTitle);

        var n = Math.Max(1, categories.Count);
        double X(int i) => Left + ((i + 0.5) * PlotWidth / n);
        double Y(double v) => Top + PlotHeight - (v / yMax * PlotHeight);

        var labelEvery = (int)Math.Ceiling(categories.Count / 12.0);
        for (var i = 0; i < categories.Count; i++)
        {
            if (i % Math.Max(1, labelEvery) == 0)
            {
                Text(svg, X(i), Top + PlotHeight + 16, categories[i], "middle", 11);
            }
        }

        Text(svg, Left + (PlotWidth / 2), Height - 8, xTitle, "middle", 12);

        for (var s = 0; s < series.Count; s++)
        {
            var color = Palette[s % Palette.Length];
            var values = series[s].Values;
            var points = new List<string>();
            for (var i = 0; i <= values.Count; i++)
            {
                if (i < values.Count && values[i] is { } v)
                {
                    points.Add(Num(X(i)) + "," + Num(Y(v)));
                    continue;
                }

                // A gap (or the end) closes the current stretch of line.
                if (points.Count > 1)
                {
                    svg.Append("<polyline fill=\"none\" stroke=\"").Append(color).Append("\" stroke-width=\"2\" points=\"")
                        .AppendJoin(' ', points).Append("\"/>");
                }

                points.Clear();
            }

            for (var i = 0; i < values.Count; i++)
            {
                if (values[i] is { } v)
                {
                    svg.Append("<circle cx=\"").Append(Num(X(i))).Append("\" cy=\"").Append(Num(Y(v)))
                        .Append("\" r=\"3.5\" fill=\"").Append(color).Append("\"><title>")
                        .Append(Escape(series[s].Name + " at " + categories[i] + ": " + Format.Number(v)))
                        .Append("</title></circle>");
                }
            }
        }

        Legend(svg, series.Select(s => s.Name).ToList());
        return End(svg);
    }

    /// <summary>A histogram of <paramref name="values"/> in equal-width bins (about the square root of the count, at most <paramref name="maxBins"/>).</summary>
    public static string Histogram(string title, string xTitle, IReadOnlyList<double> values, int maxBins = 30)
    {
        var svg = Begin(title);
        if (values.Count == 0)
        {
            Text(svg, Width / 2, Height / 2, "no values", "middle", 13);
            return End(svg);
        }

        var min = values.Min();
        var max = values.Max();
        var bins = max > min ? Math.Clamp((int)Math.Ceiling(Math.Sqrt(values.Count)), 1, maxBins) : 1;
        var width = max > min ? (max - min) / bins : 1.0;
        var counts = new int[bins];
        foreach (var value in values)
        {
            counts[Math.Min(bins - 1, (int)((value - min) / width))]++;
        }

        var (yMax, yStep) = NiceScale(counts.Max());
        YAxis(svg, yMax, Math.Max(1, Math.Round(yStep)), "requests");
        var barWidth = PlotWidth / bins;
        for (var b = 0; b < bins; b++)
        {
            var height = counts[b] / yMax * PlotHeight;
            var from = min + (b * width);
            svg.Append("<rect x=\"").Append(Num(Left + (b * barWidth) + 1)).Append("\" y=\"").Append(Num(Top + PlotHeight - height))
                .Append("\" width=\"").Append(Num(Math.Max(1, barWidth - 2))).Append("\" height=\"").Append(Num(height))
                .Append("\" fill=\"").Append(Palette[0]).Append("\"><title>")
                .Append(Escape(Format.Number(from) + " to " + Format.Number(from + width) + " ms: " + Format.Integer(counts[b])))
                .Append("</title></rect>");
        }

        // Edge labels at up to six evenly spaced bin boundaries.
        var labelEvery = Math.Max(1, (int)Math.Ceiling(bins / 5.0));
        for (var b = 0; b <= bins; b += labelEvery)
        {
            Text(svg, Left + (b * barWidth), Top + PlotHeight + 16, Format.Number(min + (b * width)), "middle", 11);
        }

        Text(svg, Left + (PlotWidth / 2), Height - 8, xTitle, "middle", 12);
        return End(svg);
    }

    /// <summary>A round upper bound and tick step for an axis starting at zero.</summary>
    internal static (double Max, double Step) NiceScale(double maxValue, int ticks = 5)
    {
        if (!(maxValue > 0) || double.IsInfinity(maxValue))
        {
            return (1, 0.2);
        }

        var rough = maxValue / ticks;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var normalized = rough / magnitude;
        var step = normalized switch
        {
            <= 1 => 1,
            <= 2 => 2,
            <= 2.5 => 2.5,
            <= 5 => 5,
            _ => 10,
        } * magnitude;
        return (Math.Ceiling(maxValue / step) * step, step);
    }

    private static StringBuilder Begin(string title)
    {
        var svg = new StringBuilder(4096);
        svg.Append("<svg class=\"chart\" viewBox=\"0 0 ").Append(Num(Width)).Append(' ').Append(Num(Height))
            .Append("\" width=\"").Append(Num(Width)).Append("\" height=\"").Append(Num(Height))
            .Append("\" role=\"img\" aria-label=\"").Append(Escape(title)).Append("\">");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>");
        Text(svg, Left, 20, title, "start", 14, bold: true);
        return svg;
    }

    private static string End(StringBuilder svg) => svg.Append("</svg>").ToString();

    private static void YAxis(StringBuilder svg, double yMax, double yStep, string yTitle)
    {
        for (var tick = 0.0; tick <= yMax + (yStep / 2); tick += yStep)
        {
            var y = Top + PlotHeight - (tick / yMax * PlotHeight);
            svg.Append("<line x1=\"").Append(Num(Left)).Append("\" x2=\"").Append(Num(Left + PlotWidth))
                .Append("\" y1=\"").Append(Num(y)).Append("\" y2=\"").Append(Num(y)).Append("\" stroke=\"#e5e7eb\"/>");
            Text(svg, Left - 6, y + 4, Format.Number(tick), "end", 11);
        }

        svg.Append("<line x1=\"").Append(Num(Left)).Append("\" x2=\"").Append(Num(Left)).Append("\" y1=\"").Append(Num(Top))
            .Append("\" y2=\"").Append(Num(Top + PlotHeight)).Append("\" stroke=\"#6b7280\"/>");
        svg.Append("<line x1=\"").Append(Num(Left)).Append("\" x2=\"").Append(Num(Left + PlotWidth)).Append("\" y1=\"")
            .Append(Num(Top + PlotHeight)).Append("\" y2=\"").Append(Num(Top + PlotHeight)).Append("\" stroke=\"#6b7280\"/>");
        svg.Append("<text x=\"14\" y=\"").Append(Num(Top + (PlotHeight / 2))).Append("\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 ")
            .Append(Num(Top + (PlotHeight / 2))).Append(")\">").Append(Escape(yTitle)).Append("</text>");
    }

    private static void Legend(StringBuilder svg, IReadOnlyList<string> names)
    {
        var x = Width - Right;
        for (var i = names.Count - 1; i >= 0; i--)
        {
            var textWidth = (names[i].Length * 6.5) + 18;
            x -= textWidth;
            svg.Append("<rect x=\"").Append(Num(x)).Append("\" y=\"10\" width=\"10\" height=\"10\" fill=\"")
                .Append(Palette[i % Palette.Length]).Append("\"/>");
            Text(svg, x + 14, 19, names[i], "start", 11);
        }
    }

    private static void Text(StringBuilder svg, double x, double y, string text, string anchor, int size, bool bold = false)
    {
        svg.Append("<text x=\"").Append(Num(x)).Append("\" y=\"").Append(Num(y)).Append("\" font-size=\"").Append(size)
            .Append("\" text-anchor=\"").Append(anchor).Append('"');
        if (bold)
        {
            svg.Append(" font-weight=\"bold\"");
        }

        svg.Append('>').Append(Escape(text)).Append("</text>");
    }

    private static string Num(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
