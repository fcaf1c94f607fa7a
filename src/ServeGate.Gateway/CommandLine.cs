using System.Globalization;

namespace ServeGate.Gateway;

/// <summary>
/// ./run.sh's switches (<c>--port N --model PATH ... --parallel N --backend cpu|cuda</c>) turned into configuration
/// keys, so the same settings also live in appsettings.json and environment variables (<c>ServeGate__Worker__Parallel</c>).
/// Anything else is passed on to ASP.NET's own command-line configuration (<c>--ServeGate:Worker:ContextLength=8192</c>).
/// </summary>
internal static class CommandLine
{
    public const string Usage = """
        Usage: ServeGate.Gateway [options]
          --port N            listen on http://127.0.0.1:N (default 8080)
          --host ADDRESS      listen address (default 127.0.0.1)
          --model PATH        serve this GGUF file (repeat for more); default: the embedded demo models
          --parallel N        concurrent sequences per model
          --ctx-size N        most tokens per request (prompt + output)
          --cache-ram MIB     host memory for cached prefixes evicted from the KV cache (default 0: off)
          --backend cpu|cuda  llama.cpp build to load (default cpu)
          --gpu-layers N      layers to offload with cuda (-1 = all)
          --worker URL=M1,M2  gateway only: forward models M1, M2 to the worker host at URL (repeat for more);
                              without --worker the worker runs in this process
          --data-dir DIR      the data folder: usage ledger, API keys (default $XDG_DATA_HOME/servegate, else ~/.local/share/servegate)
          --config FILE       a JSON settings file, watched: edits to ServeGate:Gateway:Workers apply while running
          --KEY=VALUE         any configuration key, e.g. --ServeGate:Worker:MaxQueue=128
        """;

    public static (Dictionary<string, string?> Settings, string[] Remaining, string? Error) Parse(string[] args)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var rest = new List<string>();
        var models = 0;
        var workers = 0;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            switch (arg)
            {
                case "--port":
                    if (!int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
                    {
                        return (settings, [], "--port needs a number from 0 (any free port) to 65535");
                    }

                    settings["ServeGate:Port"] = port.ToString(CultureInfo.InvariantCulture);
                    break;
                case "--host":
                    settings["ServeGate:Host"] = Next() ?? string.Empty;
                    break;
                case "--model":
                    var path = Next();
                    if (string.IsNullOrEmpty(path))
                    {
                        return (settings, [], "--model needs the path of a GGUF file");
                    }

                    settings[$"ServeGate:Models:{models++}:Path"] = Path.GetFullPath(path);
                    break;
                case "--parallel":
                    if (!int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var parallel) || parallel < 1)
                    {
                        return (settings, [], "--parallel needs a positive number");
                    }

                    settings["ServeGate:Worker:Parallel"] = parallel.ToString(CultureInfo.InvariantCulture);
                    break;
                case "--ctx-size":
                    settings["ServeGate:Worker:ContextLength"] = Next();
                    break;
                case "--cache-ram":
                    if (!int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var cacheRam))
                    {
                        return (settings, [], "--cache-ram needs a number of MiB (0 turns the host-memory prefix cache off)");
                    }

                    settings["ServeGate:Worker:HostCacheMiB"] = cacheRam.ToString(CultureInfo.InvariantCulture);
                    break;
                case "--backend":
                    var backend = Next();
                    if (backend is not ("cpu" or "cuda"))
                    {
                        return (settings, [], "--backend must be cpu or cuda");
                    }

                    settings["LlamaCpp:Backend"] = backend;
                    break;
                case "--worker":
                    var worker = Next() ?? string.Empty;
                    var split = worker.LastIndexOf('=');
                    if (split <= 0 || split == worker.Length - 1)
                    {
                        return (settings, [], "--worker needs URL=MODEL[,MODEL...], e.g. http://10.0.0.5:8081=tiny-base");
                    }

                    settings[$"ServeGate:Gateway:Workers:{workers}:Url"] = worker[..split];
                    var served = worker[(split + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    for (var m = 0; m < served.Length; m++)
                    {
                        settings[$"ServeGate:Gateway:Workers:{workers}:Models:{m}"] = served[m];
                    }

                    workers++;
                    break;
                case "--gpu-layers":
                    settings["LlamaCpp:GpuLayers"] = Next();
                    break;
                case "--config":
                    if (Next() is not { Length: > 0 } config)
                    {
                        return (settings, [], "--config needs the path of a JSON settings file");
                    }

                    settings["ServeGate:ConfigFile"] = config;
                    break;
                case "--data-dir":
                    if (Next() is not { Length: > 0 } dataDirectory)
                    {
                        return (settings, [], "--data-dir needs a folder for the usage ledger and the API keys");
                    }

                    settings["ServeGate:DataDirectory"] = Path.GetFullPath(dataDirectory);
                    break;
                case "-h" or "--help":
                    return (settings, [], "help");
                default:
                    if (!arg.StartsWith("--", StringComparison.Ordinal) || (!arg.Contains('=', StringComparison.Ordinal) && !arg.Contains(':', StringComparison.Ordinal)))
                    {
                        return (settings, [], $"unknown argument '{arg}'");
                    }

                    rest.Add(arg);
                    break;
            }
        }

        return (settings, [.. rest], null);
    }
}
