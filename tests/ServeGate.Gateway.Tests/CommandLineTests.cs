using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ServeGate.Gateway.Tests;

public sealed class CommandLineTests
{
    [Fact]
    public void Parse_Worker_MapsToGatewayWorkers()
    {
        var (settings, _, error) = CommandLine.Parse(["--worker", "http://127.0.0.1:8081=tiny-base, tiny-instruct", "--worker", "http://127.0.0.1:8082=tiny-base"]);

        Assert.Null(error);
        Assert.Equal("http://127.0.0.1:8081", settings["ServeGate:Gateway:Workers:0:Url"]);
        Assert.Equal("tiny-instruct", settings["ServeGate:Gateway:Workers:0:Models:1"]);
        Assert.Equal("tiny-base", settings["ServeGate:Gateway:Workers:1:Models:0"]);
    }

    [Fact]
    public void Parse_WorkerWithoutModels_ReturnsError()
    {
        var (_, _, error) = CommandLine.Parse(["--worker", "http://127.0.0.1:8081"]);

        Assert.NotNull(error);
    }

    [Fact]
    public void Parse_DataDir_MapsToDataDirectoryAsAFullPathAndNeedsOne()
    {
        var (settings, _, error) = CommandLine.Parse(["--data-dir", "ledger-data"]);
        var (_, _, missing) = CommandLine.Parse(["--data-dir"]);

        Assert.Null(error);
        Assert.Equal(Path.GetFullPath("ledger-data"), settings["ServeGate:DataDirectory"]);
        Assert.NotNull(missing);
    }

    [Fact]
    public void Parse_Config_MapsToConfigFileAndNeedsAPath()
    {
        var (settings, _, error) = CommandLine.Parse(["--config", "workers.json"]);
        var (_, _, missing) = CommandLine.Parse(["--config"]);

        Assert.Null(error);
        Assert.Equal("workers.json", settings["ServeGate:ConfigFile"]);
        Assert.NotNull(missing);
    }

    [Theory]
    [InlineData("2048", "2048", false)]
    [InlineData("0", "0", false)]
    [InlineData("-5", null, true)]
    [InlineData("lots", null, true)]
    public void Parse_CacheRam_MapsToHostCacheMiB(string value, string? expected, bool fails)
    {
        var (settings, _, error) = CommandLine.Parse(["--cache-ram", value]);

        Assert.Equal(fails, error is not null);
        Assert.Equal(expected, settings.GetValueOrDefault("ServeGate:Worker:HostCacheMiB"));
    }
}

public sealed class HostingTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("false", false)]
    public async Task Host_InlineStreaming_SchedulesSocketIoInlineUnlessTurnedOff(string? setting, bool expected)
    {
        await using var app = ServeGateApplication.Create([], new Dictionary<string, string?> { ["ServeGate:Worker:InlineStreaming"] = setting });

        var sockets = app.Services.GetRequiredService<IOptions<SocketTransportOptions>>();

        Assert.Equal(expected, sockets.Value.UnsafePreferInlineScheduling);
    }
}
