using System.Text;
using Microsoft.Extensions.Configuration;
using ServeGate.Gateway;
using YamlDotNet.RepresentationModel;

namespace ServeGate.Deploy.Tests;

/// <summary>
/// deploy/k8s, statically (no cluster here): every manifest is in the kustomization, Services select pods and name
/// their ports, containers run the images' hosts with accepted arguments and settings, and the gateway's workers.json
/// binds to the gateway's options and names the worker pods.
/// </summary>
public sealed class KubernetesManifestTests
{
    private const string Folder = "deploy/k8s";
    private static readonly Dockerfile Dockerfile = DeployFiles.LoadDockerfile();

    private static readonly IReadOnlyList<YamlMappingNode> Documents =
    [
        .. DeployFiles.LoadYaml($"{Folder}/kustomization.yaml").Single().Get("resources").Strings()
            .SelectMany(file => DeployFiles.LoadYaml($"{Folder}/{file}")),
    ];

    private static IEnumerable<YamlMappingNode> OfKind(string kind) => Documents.Where(d => d.Text("kind") == kind);

    private static IEnumerable<YamlMappingNode> Workloads => OfKind("Deployment").Concat(OfKind("StatefulSet"));

    private static string Name(YamlNode document) => document.Get("metadata").Text("name")!;

    private static YamlMappingNode Named(string kind, string name) =>
        OfKind(kind).SingleOrDefault(d => Name(d) == name) ?? throw new Xunit.Sdk.XunitException($"no {kind} named {name}");

    private static IEnumerable<YamlNode> Containers(YamlNode workload) => workload.Get("spec").Get("template").Get("spec").Get("containers").Items();

    private static Dictionary<string, string> Labels(YamlNode workload) =>
        workload.Get("spec").Get("template").Get("metadata").Get("labels").Entries().ToDictionary(e => e.Key, e => ((YamlScalarNode)e.Value).Value!);

    private static string? Target(YamlNode container) =>
        container.Text("image")?.Split(':')[0] switch
        {
            "servegate/gateway" => DeployFiles.GatewayTarget,
            "servegate/worker" => DeployFiles.WorkerTarget,
            _ => null,
        };

    private static IEnumerable<(YamlNode Workload, YamlNode Container)> ServeGateContainers =>
        Workloads.SelectMany(w => Containers(w).Select(c => ((YamlNode)w, c))).Where(p => Target(p.Item2) is not null);

    [Fact]
    public void Kustomization_ListsEveryManifestInTheFolder()
    {
        var listed = DeployFiles.LoadYaml($"{Folder}/kustomization.yaml").Single().Get("resources").Strings();
        var present = Directory.GetFiles(DeployFiles.PathOf(Folder), "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml");

        Assert.Equal(present.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
        Assert.All(Documents, d => Assert.False(string.IsNullOrEmpty(d.Text("apiVersion")), $"{d.Text("kind")} {Name(d)} has an apiVersion"));
    }

    [Fact]
    public void Services_SelectAWorkloadsPodsAndPortsTheyName()
    {
        foreach (var service in OfKind("Service"))
        {
            var selector = service.Get("spec").Get("selector").Entries().ToDictionary(e => e.Key, e => ((YamlScalarNode)e.Value).Value!);
            var workload = Assert.Single(Workloads, w => selector.All(s => Labels(w).GetValueOrDefault(s.Key) == s.Value));
            Assert.Equal(selector, workload.Get("spec").Get("selector").Get("matchLabels").Entries().ToDictionary(e => e.Key, e => ((YamlScalarNode)e.Value).Value!));
            var portNames = Containers(workload).SelectMany(c => c.Get("ports").Items()).Select(p => p.Text("name")).ToList();
            Assert.All(service.Get("spec").Get("ports").Items(), p => Assert.Contains(p.Text("targetPort"), portNames));
        }
    }

    [Fact]
    public void StatefulSets_AreGovernedByHeadlessServicesOfTheirOwnPods()
    {
        foreach (var set in OfKind("StatefulSet"))
        {
            var service = Named("Service", set.Get("spec").Text("serviceName")!);
            Assert.Equal("None", service.Get("spec").Text("clusterIP"));
            Assert.All(service.Get("spec").Get("selector").Entries(), s => Assert.Equal(((YamlScalarNode)s.Value).Value, Labels(set)[s.Key]));
        }
    }

    [Fact]
    public void Containers_RunTheHostsWithAcceptedArgumentsSettingsProbesAndPorts()
    {
        var problems = new List<string>();
        Assert.Equal(2, ServeGateContainers.Select(p => Target(p.Container)).Distinct().Count());
        foreach (var (workload, container) in ServeGateContainers)
        {
            var args = container.Get("args").Strings();
            problems.AddRange(SettingsCatalog.CheckCommandLine(args).Select(p => $"{Name(workload)}: {p}"));
            foreach (var env in container.Get("env").Items())
            {
                var secret = env.Get("valueFrom").Get("secretKeyRef");
                var value = secret is not null ? "from-a-secret" : env.Text("value") ?? string.Empty;
                if (SettingsCatalog.CheckEnvironment(env.Text("name")!, value) is { } problem)
                {
                    problems.Add($"{Name(workload)}: {problem}");
                }
            }

            Assert.Equal("0.0.0.0", DeployFiles.Argument(args, "--host"));
            var http = Assert.Single(container.Get("ports").Items(), p => p.Text("name") == "http");
            Assert.Equal(DeployFiles.Argument(args, "--port"), http.Text("containerPort"));
            Assert.Equal(Dockerfile.Last(Target(container)!, "EXPOSE")!.Arguments, http.Text("containerPort"));
            Assert.Equal("/ready", container.Get("readinessProbe").Get("httpGet").Text("path"));
            Assert.Equal("/health", container.Get("livenessProbe").Get("httpGet").Text("path"));
            Assert.Equal("http", container.Get("readinessProbe").Get("httpGet").Text("port"));

            // Volumes go where the image keeps its state, or hold the --config file.
            var imageVolumes = Dockerfile.Volumes(Target(container)!);
            var config = DeployFiles.Argument(args, "--config");
            foreach (var mount in container.Get("volumeMounts").Items())
            {
                var path = mount.Text("mountPath")!;
                Assert.True(imageVolumes.Contains(path) || (config is not null && config.StartsWith(path + "/", StringComparison.Ordinal)), $"{Name(workload)} mounts {path}");
            }
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void GatewayWorkersJson_BindsToTheGatewaysOptionsAndNamesEveryWorkerPod()
    {
        var (gateway, container) = Assert.Single(ServeGateContainers, p => Target(p.Container) == DeployFiles.GatewayTarget);
        var configPath = DeployFiles.Argument(container.Get("args").Strings(), "--config")!;
        var mount = Assert.Single(container.Get("volumeMounts").Items(), m => configPath.StartsWith(m.Text("mountPath") + "/", StringComparison.Ordinal));
        var volume = Assert.Single(gateway.Get("spec").Get("template").Get("spec").Get("volumes").Items(), v => v.Text("name") == mount.Text("name"));
        var configMap = Named("ConfigMap", volume.Get("configMap").Text("name")!);
        var json = configMap.Get("data").Text(Path.GetFileName(configPath))!;

        var options = new GatewayOptions();
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build()
            .GetSection(GatewayOptions.SectionName).Bind(options);
        Assert.Empty(options.Validate());

        // http://<statefulset>-<ordinal>.<governing service>:<port> for every worker pod, and only those.
        var (workerSet, workerContainer) = Assert.Single(ServeGateContainers, p => Target(p.Container) == DeployFiles.WorkerTarget);
        var replicas = int.Parse(workerSet.Get("spec").Text("replicas")!);
        var workerArgs = workerContainer.Get("args").Strings();
        var expected = Enumerable.Range(0, replicas)
            .Select(i => $"http://{Name(workerSet)}-{i}.{workerSet.Get("spec").Text("serviceName")}:{DeployFiles.Argument(workerArgs, "--port")}");
        Assert.Equal(expected, options.Workers.Select(w => w.Url));
        Assert.All(options.Workers, w => Assert.Subset(DeployFiles.ServedModels(workerArgs).ToHashSet(), w.Models.ToHashSet()));
    }

    [Fact]
    public void Gateway_SharesRedisAndKeepsItsLedgerOnItsOwnVolume()
    {
        var (gateway, container) = Assert.Single(ServeGateContainers, p => Target(p.Container) == DeployFiles.GatewayTarget);
        var env = container.Get("env").Items().ToDictionary(e => e.Text("name")!, e => e);

        var redis = env["ServeGate__Gateway__Limits__Redis"].Text("value")!.Split(':');
        Assert.Equal("Redis", env["ServeGate__Gateway__Limits__Store"].Text("value"));
        Assert.Equal("6379", Named("Service", redis[0]).Get("spec").Get("ports").Items().Single().Text("port"));
        Assert.NotNull(env["SERVEGATE_ADMIN_KEY"].Get("valueFrom").Get("secretKeyRef")); // never a literal in the manifest

        var ledger = Path.GetDirectoryName(env["ServeGate__Metering__DatabasePath"].Text("value"));
        var mount = Assert.Single(container.Get("volumeMounts").Items(), m => m.Text("mountPath") == ledger);
        Assert.Contains(gateway.Get("spec").Get("volumeClaimTemplates").Items(), t => t.Get("metadata").Text("name") == mount.Text("name"));
    }
}
