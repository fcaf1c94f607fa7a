using System.ComponentModel;
using System.Reflection;
using ServeGate.Economics.Configuration;
using ServeGate.Gateway;
using ServeGate.Gateway.Auth;
using ServeGate.LlamaCpp;
using ServeGate.Ledger;
using ServeGate.Models;
using ServeGate.Worker;

namespace ServeGate.Deploy.Tests;

/// <summary>
/// Whether a configuration key (or environment variable) in a deployment file names a real ServeGate setting, and
/// whether its value converts to that setting's type: a misspelt key would otherwise be ignored without a word.
/// </summary>
internal static class SettingsCatalog
{
    // The options classes and the sections they bind, longest first, and the few keys read directly.
    private static readonly (string Section, Type Type)[] Sections =
    [
        (GatewayOptions.SectionName, typeof(GatewayOptions)),
        (MeteringOptions.SectionName, typeof(MeteringOptions)),
        (EconomicsOptions.SectionName, typeof(EconomicsOptions)),
        (WorkerOptions.SectionName, typeof(WorkerOptions)),
        (LlamaBackendOptions.SectionName, typeof(LlamaBackendOptions)),
    ];

    private static readonly string[] DirectKeys = ["ServeGate:Host", "ServeGate:Port", "ServeGate:ConfigFile", MeteringOptions.DataDirectoryKey];

    /// <summary>Environment variables read by name (not as configuration keys).</summary>
    public static readonly string[] EnvironmentVariables =
    [
        AccessPolicy.AdminKeyEnvironmentVariable,
        ServeGateCachePaths.CacheEnvironmentVariable,
        "DOTNET_USE_POLLING_FILE_WATCHER", // .NET's file watcher: polls (ConfigMap volumes change by symlink swaps)
    ];

    /// <summary>Null when <paramref name="key"/>=<paramref name="value"/> is a real setting; else what is wrong.</summary>
    public static string? Check(string key, string value)
    {
        if (DirectKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        foreach (var (section, type) in Sections.OrderByDescending(s => s.Section.Length))
        {
            if (key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase))
            {
                return CheckPath(type, key[(section.Length + 1)..].Split(':'), value, key);
            }
        }

        return $"'{key}' is in no ServeGate settings section ({string.Join(", ", Sections.Select(s => s.Section))})";
    }

    /// <summary>An environment variable: one read by name, or a configuration key with <c>__</c> for <c>:</c>.</summary>
    public static string? CheckEnvironment(string name, string value) =>
        EnvironmentVariables.Contains(name, StringComparer.Ordinal) ? null
        : name.Contains("__", StringComparison.Ordinal) ? Check(name.Replace("__", ":", StringComparison.Ordinal), value)
        : $"the environment variable '{name}' is read by nothing in ServeGate";

    /// <summary>Every setting a host command line makes (<c>--port</c>, <c>--worker</c>, <c>--KEY=VALUE</c>), checked.</summary>
    public static IEnumerable<string> CheckCommandLine(IReadOnlyList<string> args)
    {
        var (settings, remaining, error) = CommandLine.Parse([.. args]);
        if (error is not null)
        {
            yield return $"'{string.Join(' ', args)}': {error}";
            yield break;
        }

        foreach (var (key, value) in settings)
        {
            if (Check(key, value ?? string.Empty) is { } problem)
            {
                yield return problem;
            }
        }

        foreach (var arg in remaining)
        {
            var pair = arg[2..];
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if ((equals < 0 ? $"'{arg}' sets no value" : Check(pair[..equals], pair[(equals + 1)..])) is { } problem)
            {
                yield return problem;
            }
        }
    }

    private static string? CheckPath(Type type, string[] segments, string value, string key)
    {
        foreach (var segment in segments)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                type = type.GetGenericArguments()[1]; // any name: a model, a team
                continue;
            }

            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
            {
                if (!int.TryParse(segment, out _))
                {
                    return $"'{key}': '{segment}' should be an index into a list";
                }

                type = type.GetGenericArguments()[0];
                continue;
            }

            var property = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                return $"'{key}': {type.Name} has no setting '{segment}'";
            }

            type = property.PropertyType;
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        try
        {
            TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
            return null;
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException)
        {
            return $"'{key}': '{value}' is not a {type.Name}";
        }
    }
}
