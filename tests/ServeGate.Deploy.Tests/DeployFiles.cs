using System.Text.Json;
using System.Text.RegularExpressions;
using ServeGate.Tests.Common;
using ServeGate.Worker.Models;
using YamlDotNet.RepresentationModel;

namespace ServeGate.Deploy.Tests;

/// <summary>The repository's deployment files, parsed: docker-compose.yml, deploy/docker/Dockerfile, deploy/k8s/*.yaml.</summary>
internal static class DeployFiles
{
    public const string GatewayTarget = "gateway";
    public const string WorkerTarget = "worker";

    /// <summary>The models a worker serves when started without <c>--model</c>.</summary>
    public static readonly string[] DemoModelIds = [DemoModelSource.BaseId, DemoModelSource.InstructId];

    public static string PathOf(string relative) => Path.Combine(TestEnvironment.RepositoryRoot, relative);

    public static IReadOnlyList<YamlMappingNode> LoadYaml(string relative)
    {
        var stream = new YamlStream();
        using (var reader = File.OpenText(PathOf(relative)))
        {
            stream.Load(reader); // anchors and aliases are resolved to the nodes they name
        }

        return [.. stream.Documents.Select(d => Assert.IsType<YamlMappingNode>(d.RootNode))];
    }

    public static IReadOnlyList<ComposeService> ComposeServices() =>
        [.. LoadYaml("docker-compose.yml").Single().Get("services").Entries().Select(e => new ComposeService(e.Key, (YamlMappingNode)e.Value))];

    public static Dockerfile LoadDockerfile() => Dockerfile.Load(PathOf("deploy/docker/Dockerfile"));

    /// <summary>The value of <c>--name VALUE</c> in a command line, or null.</summary>
    public static string? Argument(IReadOnlyList<string> args, string name)
    {
        var index = args.ToList().IndexOf(name);
        return index >= 0 && index + 1 < args.Count ? args[index + 1] : null;
    }

    /// <summary>Every value of a repeated <c>--name VALUE</c>.</summary>
    public static IEnumerable<string> Arguments(IReadOnlyList<string> args, string name)
    {
        for (var i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] == name)
            {
                yield return args[i + 1];
            }
        }
    }

    /// <summary>The model ids a worker started with <paramref name="args"/> serves.</summary>
    public static string[] ServedModels(IReadOnlyList<string> args)
    {
        string[] models = [.. Arguments(args, "--model").Select(m => Path.GetFileNameWithoutExtension(m))];
        return models.Length > 0 ? models : DemoModelIds;
    }
}

/// <summary>Reading YAML's mappings, sequences and scalars without casts at every step.</summary>
internal static class YamlNodes
{
    public static YamlNode? Get(this YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static string? Text(this YamlNode? node, string key) => (node.Get(key) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlNode> Items(this YamlNode? node) => node is YamlSequenceNode sequence ? sequence.Children : [];

    public static string[] Strings(this YamlNode? node) => [.. node.Items().Select(i => ((YamlScalarNode)i).Value ?? string.Empty)];

    public static IEnumerable<(string Key, YamlNode Value)> Entries(this YamlNode? node) =>
        node is YamlMappingNode map ? map.Children.Select(kv => (((YamlScalarNode)kv.Key).Value ?? string.Empty, kv.Value)) : [];
}

/// <summary>One service of docker-compose.yml.</summary>
internal sealed record ComposeService(string Name, YamlMappingNode Node)
{
    public string? Image => Node.Text("image");

    public string? BuildTarget => Node.Get("build").Text("target");

    public string[] Command => Node.Get("command").Strings();

    /// <summary>A ServeGate host (built from the Dockerfile), not a third-party image.</summary>
    public bool IsServeGate => BuildTarget is not null;

    public IEnumerable<(string Name, string Value)> Environment =>
        Node.Get("environment").Entries().Select(e => (e.Key, ((YamlScalarNode)e.Value).Value ?? string.Empty));

    /// <summary>Named volumes: (volume, path in the container).</summary>
    public IEnumerable<(string Volume, string Target)> Volumes =>
        Node.Get("volumes").Strings().Select(v => v.Split(':')).Select(p => (p[0], p[1]));

    /// <summary>Published ports: (host address, host port, container port).</summary>
    public IEnumerable<(string Address, int Published, int Container)> Ports =>
        Node.Get("ports").Strings().Select(p => p.Split(':')).Select(p => (p[0], int.Parse(p[1]), int.Parse(p[2])));

    public IEnumerable<string> DependsOn => Node.Get("depends_on").Entries().Select(e => e.Key);

    public string[] HealthCheck => Node.Get("healthcheck").Get("test").Strings();

    /// <summary>Compose's <c>${NAME:?message}</c> / <c>${NAME:-default}</c> / <c>${NAME}</c> interpolation, if the whole value is one.</summary>
    public static string? InterpolatedVariable(string value) =>
        Regex.Match(value, @"^\$\{([A-Z_][A-Z0-9_]*)(?::?[-?][^}]*)?\}$") is { Success: true } m ? m.Groups[1].Value : null;
}

/// <summary>One instruction of a Dockerfile (continuation lines joined), in the stage it belongs to.</summary>
internal sealed record DockerInstruction(string Stage, string Keyword, string Arguments)
{
    /// <summary>The JSON (exec) form's array: <c>["dotnet", "/app/x.dll"]</c>.</summary>
    public string[] JsonArray => JsonSerializer.Deserialize<string[]>(Arguments) ?? [];
}

/// <summary>A Dockerfile's stages and instructions, enough to check what the images copy, set and run.</summary>
internal sealed class Dockerfile
{
    private Dockerfile(IReadOnlyList<DockerInstruction> instructions, IReadOnlyDictionary<string, string> bases)
    {
        Instructions = instructions;
        Bases = bases;
    }

    public IReadOnlyList<DockerInstruction> Instructions { get; }

    /// <summary>Each stage's FROM: an image or an earlier stage.</summary>
    public IReadOnlyDictionary<string, string> Bases { get; }

    public static Dockerfile Load(string path)
    {
        var instructions = new List<DockerInstruction>();
        var bases = new Dictionary<string, string>(StringComparer.Ordinal);
        var stage = string.Empty;
        var pending = string.Empty;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (pending.Length == 0 && (line.Length == 0 || line.StartsWith('#')))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }

            line = pending + line;
            pending = string.Empty;
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var keyword = line[..space].ToUpperInvariant();
            var arguments = Regex.Replace(line[(space + 1)..].Trim(), @"\s+", " ");
            if (keyword == "FROM")
            {
                var parts = arguments.Split(' ');
                stage = parts.Length == 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : $"#{bases.Count}";
                bases[stage] = parts[0];
            }

            instructions.Add(new DockerInstruction(stage, keyword, arguments));
        }

        return new Dockerfile(instructions, bases);
    }

    /// <summary>The instructions that make up <paramref name="stage"/>'s image: its own and those of the stages it is FROM.</summary>
    public IEnumerable<DockerInstruction> Image(string stage) =>
        (Bases.TryGetValue(stage, out var parent) && Bases.ContainsKey(parent) ? Image(parent) : [])
        .Concat(Instructions.Where(i => i.Stage == stage));

    /// <summary>The last instruction of a kind in a stage's image (ENTRYPOINT, CMD, EXPOSE), or null.</summary>
    public DockerInstruction? Last(string stage, string keyword) => Image(stage).LastOrDefault(i => i.Keyword == keyword);

    /// <summary>The environment a stage's image sets (<c>ENV A=1 B=2</c>).</summary>
    public Dictionary<string, string> Environment(string stage)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var env in Image(stage).Where(i => i.Keyword == "ENV"))
        {
            foreach (var pair in env.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                environment[pair[..equals]] = pair[(equals + 1)..];
            }
        }

        return environment;
    }

    public string[] Volumes(string stage) => [.. Image(stage).Where(i => i.Keyword == "VOLUME").SelectMany(i => i.JsonArray)];
}
