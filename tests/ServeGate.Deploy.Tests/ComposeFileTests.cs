namespace ServeGate.Deploy.Tests;

/// <summary>
/// docker-compose.yml, statically (no Docker engine runs here): each ServeGate service's command line and environment
/// are settings the hosts accept, the gateways route to worker services on the ports those listen on, and the images,
/// volumes and health checks match the Dockerfile. ComposeTopologyTests runs the same file's topology on loopback.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly IReadOnlyList<ComposeService> Services = DeployFiles.ComposeServices();
    private static readonly Dockerfile Dockerfile = DeployFiles.LoadDockerfile();

    private static IEnumerable<ComposeService> ServeGateServices => Services.Where(s => s.IsServeGate);

    private static IEnumerable<ComposeService> Gateways => Services.Where(s => s.BuildTarget == DeployFiles.GatewayTarget);

    private static IEnumerable<ComposeService> Workers => Services.Where(s => s.BuildTarget == DeployFiles.WorkerTarget);

    private static ComposeService Service(string name) =>
        Services.SingleOrDefault(s => s.Name == name) ?? throw new Xunit.Sdk.XunitException($"docker-compose.yml has no service '{name}'");

    private static int ListenPort(ComposeService service) => int.Parse(DeployFiles.Argument(service.Command, "--port")!);

    [Fact]
    public void Topology_HasGatewayReplicasWorkersAndRedis()
    {
        Assert.True(Gateways.Count() >= 2, "two gateway replicas show that keys and limits are shared");
        Assert.True(Workers.Count() >= 2, "a pool of workers");
        Assert.Single(Services, s => s.Image?.StartsWith("redis:", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void ServeGateServices_CommandLinesAndEnvironment_AreSettingsTheHostsAccept()
    {
        var problems = new List<string>();
        foreach (var service in ServeGateServices)
        {
            Assert.NotEmpty(service.Command);
            problems.AddRange(SettingsCatalog.CheckCommandLine(service.Command).Select(p => $"{service.Name}: {p}"));
            foreach (var (name, value) in service.Environment)
            {
                if (SettingsCatalog.CheckEnvironment(name, value) is { } problem)
                {
                    problems.Add($"{service.Name}: {problem}");
                }
            }

            // In a container the host must listen on every address, and the published port must be the one it listens on.
            Assert.Equal("0.0.0.0", DeployFiles.Argument(service.Command, "--host"));
            Assert.All(service.Ports, p => Assert.Equal(ListenPort(service), p.Container));
            Assert.All(service.Ports, p => Assert.Equal("127.0.0.1", p.Address)); // published to this host only
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void ServeGateServices_BuildDockerfileStagesAndNameThemAsImages()
    {
        foreach (var service in ServeGateServices)
        {
            var build = service.Node.Get("build");
            Assert.True(File.Exists(DeployFiles.PathOf(build.Text("dockerfile")!)), $"{service.Name}: the Dockerfile exists");
            Assert.Equal(".", build.Text("context"));
            Assert.Contains(service.BuildTarget!, Dockerfile.Bases.Keys);
            Assert.StartsWith($"servegate/{service.BuildTarget}:", service.Image, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Gateways_RouteToWorkerServicesOnTheirPortsForModelsTheyServe()
    {
        foreach (var gateway in Gateways)
        {
            var workers = DeployFiles.Arguments(gateway.Command, "--worker").ToList();
            Assert.Equal(Workers.Count(), workers.Count);
            foreach (var worker in workers)
            {
                var split = worker.LastIndexOf('=');
                var url = new Uri(worker[..split]);
                var service = Service(url.Host);
                Assert.Equal(DeployFiles.WorkerTarget, service.BuildTarget);
                Assert.Equal(ListenPort(service), url.Port);
                Assert.Subset(DeployFiles.ServedModels(service.Command).ToHashSet(), worker[(split + 1)..].Split(',').ToHashSet());
                Assert.Contains(service.Name, gateway.DependsOn);
            }
        }
    }

    [Fact]
    public void Gateways_ShareTheRedisServiceForLimitsAndKeys()
    {
        foreach (var gateway in Gateways)
        {
            var environment = gateway.Environment.ToDictionary(e => e.Name, e => e.Value);
            Assert.Equal("Redis", environment["ServeGate__Gateway__Limits__Store"]);
            var redis = environment["ServeGate__Gateway__Limits__Redis"].Split(':');
            Assert.StartsWith("redis:", Service(redis[0]).Image, StringComparison.Ordinal);
            Assert.Equal("6379", redis[1]);
            Assert.Contains(redis[0], gateway.DependsOn);

            // The admin key comes from the operator's environment, never from the file.
            Assert.Equal("SERVEGATE_ADMIN_KEY", ComposeService.InterpolatedVariable(environment["SERVEGATE_ADMIN_KEY"]));
        }
    }

    [Fact]
    public void HealthChecks_AskTheReadyEndpointOnTheListenPort()
    {
        foreach (var service in ServeGateServices)
        {
            Assert.Equal(["CMD", "curl", "-sf", $"http://127.0.0.1:{ListenPort(service)}/ready"], service.HealthCheck);
        }

        Assert.Contains(Dockerfile.Image("runtime"), i => i.Keyword == "RUN" && i.Arguments.Contains("install", StringComparison.Ordinal) && i.Arguments.Contains("curl", StringComparison.Ordinal));
    }

    [Fact]
    public void Volumes_AreWhereTheImagesKeepStateAndEachReplicaHasItsOwn()
    {
        var declared = DeployFiles.LoadYaml("docker-compose.yml").Single().Get("volumes").Entries().Select(e => e.Key).ToList();
        var used = new List<string>();
        foreach (var service in ServeGateServices)
        {
            var imageVolumes = Dockerfile.Volumes(service.BuildTarget!);
            foreach (var (volume, target) in service.Volumes)
            {
                Assert.Contains(volume, declared);
                Assert.Contains(target, imageVolumes);
                used.Add(volume);
            }
        }

        Assert.Equal(used.Count, used.Distinct().Count()); // no two replicas write one SQLite ledger or one model cache
        foreach (var gateway in Gateways)
        {
            var environment = gateway.Environment.ToDictionary(e => e.Name, e => e.Value);
            var ledgerFolder = Path.GetDirectoryName(environment["ServeGate__Metering__DatabasePath"]);
            Assert.Contains(gateway.Volumes, v => v.Target == ledgerFolder);
        }

        var cache = Dockerfile.Environment(DeployFiles.WorkerTarget)["SERVEGATE_CACHE"];
        Assert.All(Workers, w => Assert.Contains(w.Volumes, v => v.Target == cache + "/models"));
    }
}
