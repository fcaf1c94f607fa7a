using System.Net;
using System.Text;

namespace ServeGate.LoadTests.Reports;

/// <summary>The page frame and table rendering shared by report.html and compare.html: one file, inline CSS, no scripts.</summary>
internal static class Html
{
    private const string Style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #111827; max-width: 1200px; }
        h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #e5e7eb; }
        table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
        th, td { border: 1px solid #e5e7eb; padding: 0.3rem 0.6rem; }
        th { background: #f3f4f6; text-align: left; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .charts { display: flex; flex-wrap: wrap; gap: 1rem; }
        .chart { border: 1px solid #e5e7eb; }
        .aborted { background: #fef3c7; border: 1px solid #f59e0b; padding: 0.5rem 1rem; }
        """;

    public static StringBuilder Begin(string title)
    {
        var html = new StringBuilder(64 * 1024);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(Encode(title))
            .Append("</title>\n<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n<h1>").Append(Encode(title)).Append("</h1>\n");
        return html;
    }

    public static string End(StringBuilder html) => html.Append("</body>\n</html>\n").ToString();

    public static StringBuilder Heading(this StringBuilder html, string text) =>
        html.Append("<h2>").Append(Encode(text)).Append("</h2>\n");

    public static StringBuilder Paragraph(this StringBuilder html, string text, string? cssClass = null)
    {
        html.Append(cssClass is null ? "<p>" : "<p class=\"" + cssClass + "\">");
        return html.Append(Encode(text)).Append("</p>\n");
    }

    public static StringBuilder AppendTable(this StringBuilder html, Table table)
    {
        html.Append("<table>\n<tr>");
        foreach (var header in table.Header)
        {
            html.Append("<th>").Append(Encode(header)).Append("</th>");
        }

        html.Append("</tr>\n");
        foreach (var row in table.Rows)
        {
            html.Append("<tr>");
            for (var i = 0; i < row.Length; i++)
            {
                html.Append(i > 0 && table.Numeric ? "<td class=\"num\">" : "<td>").Append(Encode(row[i])).Append("</td>");
            }

            html.Append("</tr>\n");
        }

        return html.Append("</table>\n");
    }

    public static StringBuilder Charts(this StringBuilder html, params string[] svgs) =>
        html.Append("<div class=\"charts\">\n").AppendJoin('\n', svgs).Append("\n</div>\n");

    public static string Encode(string text) => WebUtility.HtmlEncode(text);
}
