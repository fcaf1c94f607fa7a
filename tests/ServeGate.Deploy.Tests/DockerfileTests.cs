using System.Text.RegularExpressions;
using ServeGate.LlamaCpp;
using ServeGate.Models;

namespace ServeGate.Deploy.Tests;

/// <summary>
/// deploy/docker/Dockerfile, statically: each image runs the host its build stage published with arguments the host
/// accepts, copies what exists and is not ignored, and puts the pinned llama.cpp where the hosts look for it.
/// </summary>
public sealed class DockerfileTests
{
    private static readonly Dockerfile Dockerfile = DeployFiles.LoadDockerfile();

    [Theory]
    [InlineData(DeployFiles.GatewayTarget, "ServeGate.Gateway")]
    [InlineData(DeployFiles.WorkerTarget, "ServeGate.WorkerHost")]
    public void Image_RunsTheHostItsBuildStagePublished(string target, string project)
    {
        Assert.True(File.Exists(DeployFiles.PathOf($"src/{project}/{project}.csproj")), $"src/{project} is a project");

        // The build stage publishes the project into a folder; the image copies that folder to /app and runs its dll.
        var publish = Regex.Match(
            string.Join('\n', Dockerfile.Instructions.Where(i => i.Keyword == "RUN").Select(i => i.Arguments)),
            $@"dotnet publish src/{Regex.Escape(project)} [^&\n]*-o (/app/\w+)");
        Assert.True(publish.Success, $"the build stage publishes src/{project}");
        Assert.Contains("-p:PublishReadyToRun=true", publish.Value, StringComparison.Ordinal); // as eng/build-gateway.sh
        Assert.Contains(Dockerfile.Image(target), i => i.Keyword == "COPY" && i.Arguments == $"--from=build {publish.Groups[1].Value} /app");
        Assert.Equal(["dotnet", $"/app/{project}.dll"], Dockerfile.Last(target, "ENTRYPOINT")!.JsonArray);
    }

    [Theory]
    [InlineData(DeployFiles.GatewayTarget)]
    [InlineData(DeployFiles.WorkerTarget)]
    public void Image_DefaultArgumentsAreAcceptedAndListenOnTheExposedPort(string target)
    {
        var args = Dockerfile.Last(target, "CMD")!.JsonArray;

        Assert.Empty(SettingsCatalog.CheckCommandLine(args));
        Assert.Equal("0.0.0.0", DeployFiles.Argument(args, "--host"));
        Assert.Equal(Dockerfile.Last(target, "EXPOSE")!.Arguments, DeployFiles.Argument(args, "--port"));
        Assert.All(Dockerfile.Environment(target), e => Assert.Null(SettingsCatalog.CheckEnvironment(e.Key, e.Value)));
    }

    [Fact]
    public void BuildStage_CopiesEveryRootFileTheBuildReadsAndNothingIgnored()
    {
        var ignored = File.ReadAllLines(DeployFiles.PathOf("deploy/docker/Dockerfile.dockerignore"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Replace("**/", string.Empty, StringComparison.Ordinal).TrimEnd('/'))
            .ToList();
        var copied = Dockerfile.Instructions
            .Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from=", StringComparison.Ordinal))
            .SelectMany(i => i.Arguments.Split(' ')[..^1])
            .Select(s => s.TrimEnd('/'))
            .ToList();

        foreach (var source in copied)
        {
            Assert.True(File.Exists(DeployFiles.PathOf(source)) || Directory.Exists(DeployFiles.PathOf(source)), $"COPY {source}: it exists");
            Assert.DoesNotContain(source.Split('/')[0], ignored);
        }

        // MSBuild and the SDK read these from the repository root: a build without one differs from ./test.sh's.
        foreach (var file in new[] { "global.json", ".editorconfig", "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.True(File.Exists(DeployFiles.PathOf(file)));
            Assert.Contains(file, copied);
        }

        Assert.Contains("src", copied);
        Assert.Contains("eng", copied);
        Assert.Contains("bin", ignored);
        Assert.Contains("obj", ignored);
    }

    [Fact]
    public void RuntimeImage_HasThePinnedLlamaCppWhereTheHostsLookForIt()
    {
        var cache = Dockerfile.Environment("runtime")[ServeGateCachePaths.CacheEnvironmentVariable];
        var copies = Dockerfile.Image("runtime").Where(i => i.Keyword == "COPY").Select(i => i.Arguments).ToList();

        // LlamaBackendOptions resolves $SERVEGATE_CACHE/llama.cpp/<pinned>/cpu; the demo models need the vocab files.
        Assert.Equal(ServeGateCachePaths.LlamaCppVersion, LlamaBackendOptions.PinnedVersion);
        Assert.Equal(cache, Dockerfile.Environment("build")[ServeGateCachePaths.CacheEnvironmentVariable]);
        foreach (var folder in new[] { "cpu", "vocab" })
        {
            var path = $"{cache}/llama.cpp/{LlamaBackendOptions.PinnedVersion}/{folder}";
            Assert.Contains($"--from=build {path} {path}", copies);
        }

        Assert.Contains(Dockerfile.Instructions, i => i.Stage == "build" && i.Keyword == "RUN" && i.Arguments == "eng/fetch-llama.sh");

        // What eng/fetch-llama.sh runs beyond a base image's shell tools is installed before it.
        var installed = Dockerfile.Image("build").Where(i => i.Keyword == "RUN" && i.Arguments.Contains("apt-get install", StringComparison.Ordinal))
            .SelectMany(i => i.Arguments.Split(' ')).ToHashSet(StringComparer.Ordinal);
        var script = File.ReadAllText(DeployFiles.PathOf("eng/fetch-llama.sh"));
        foreach (var tool in new[] { "npm", "openssl", "git" })
        {
            Assert.Contains(tool + " ", script, StringComparison.Ordinal);
            Assert.Contains(tool, installed);
        }
        Assert.Contains($"{cache}/models", Dockerfile.Volumes("runtime"));
    }

    [Fact]
    public void RuntimeImage_RunsAsAnUnprivilegedUserThatOwnsItsVolumes()
    {
        var runtime = Dockerfile.Image("runtime").ToList();
        var user = runtime.Last(i => i.Keyword == "USER").Arguments;
        var chown = runtime.Single(i => i.Keyword == "RUN" && i.Arguments.Contains("chown", StringComparison.Ordinal)).Arguments;

        Assert.NotEqual("root", user);
        Assert.All(Dockerfile.Volumes("runtime"), v => Assert.Contains(v, chown, StringComparison.Ordinal));
        Assert.Contains($"{user}:{user}", chown, StringComparison.Ordinal);
    }
}
