using System.Text;
using System.Text.Json;
using Microsoft.Extensions.FileProviders;

namespace ServeGate.Gateway.Dashboard;

/// <summary>
/// One page's HTML with its scripts and styles pointed at their fingerprinted (immutably cached) URLs, and an import map
/// doing the same for the modules they import; built once, on the first request.
/// </summary>
internal sealed class DashboardPage(IFileProvider webRoot, string file, IReadOnlyDictionary<string, string> fingerprinted)
{
    private readonly Lazy<byte[]> _html = new(() => Render(webRoot, file, fingerprinted));

    public async Task WriteAsync(HttpContext context)
    {
        var html = _html.Value;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        context.Response.ContentLength = html.Length;
        await context.Response.Body.WriteAsync(html, context.RequestAborted).ConfigureAwait(false);
    }

    internal static byte[] Render(IFileProvider webRoot, string file, IReadOnlyDictionary<string, string> fingerprinted)
    {
        var info = webRoot.GetFileInfo(file);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"The dashboard page {file} is not in the web root.", file);
        }

        string html;
        using (var reader = new StreamReader(info.CreateReadStream(), Encoding.UTF8))
        {
            html = reader.ReadToEnd();
        }

        var builder = new StringBuilder(html);
        var imports = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (path, route) in fingerprinted)
        {
            builder.Replace($"\"{path}\"", $"\"{route}\"");
            if (path.EndsWith(".js", StringComparison.Ordinal))
            {
                imports[path] = route;
            }
        }

        var map = JsonSerializer.Serialize(new ImportMap { Imports = imports }, DashboardJsonContext.Default.ImportMap);
        // Before the first script: an import map counts only when it comes before any module is loaded.
        var rendered = builder.ToString();
        var at = rendered.IndexOf("<script", StringComparison.Ordinal);
        at = at >= 0 ? at : rendered.IndexOf("</head>", StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(rendered.Insert(Math.Max(at, 0), $"<script type=\"importmap\">{map}</script>\n"));
    }
}
