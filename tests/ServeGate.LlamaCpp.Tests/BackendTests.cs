using ServeGate.Tests.Common;

namespace ServeGate.LlamaCpp.Tests;

public sealed class BackendTests
{
    [Fact]
    public void Initialize_CpuBuild_LoadsCpuDeviceAndVariant()
    {
        var info = TestEnvironment.InitializeLlama();

        Assert.Equal(LlamaBackendKind.Cpu, info.Backend);
        Assert.Contains(info.Devices, d => d.Type == Native.GgmlDeviceType.Cpu);
        Assert.False(string.IsNullOrEmpty(info.CpuVariant));
        Assert.Contains("CPU", info.SystemInfo, StringComparison.Ordinal);
    }

    [Fact]
    public void Initialize_SecondCallSameFolder_ReturnsSameInfo()
    {
        var first = TestEnvironment.InitializeLlama();
        var second = LlamaBackend.Initialize(new LlamaBackendOptions());

        Assert.Same(first, second);
    }

    [Fact]
    public void Initialize_OtherFolderAfterLoad_FailsWithClearMessage()
    {
        TestEnvironment.InitializeLlama();

        var ex = Assert.Throws<LlamaException>(() => LlamaBackend.Initialize(new LlamaBackendOptions { LibraryPath = "/tmp" }));

        Assert.Contains("already loaded", ex.Message, StringComparison.Ordinal);
    }
}
