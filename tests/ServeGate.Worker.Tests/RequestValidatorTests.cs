using ServeGate.Worker.Api;
using ServeGate.Worker.Models;

namespace ServeGate.Worker.Tests;

public sealed class RequestValidatorTests
{
    [Fact]
    public void ResolveModel_WhileLoading_503ModelLoading()
    {
        var registry = new ModelRegistry();
        registry.Add(new ServedModel("m", "/tmp/m.gguf", null));
        registry.MarkConfigured();

        var error = RequestValidator.ResolveModel(registry, "m", out _);

        Assert.NotNull(error);
        Assert.Equal(503, error.Status);
        Assert.Equal("model_loading", error.Code);
    }

    [Fact]
    public void ResolveModel_BeforeModelListKnown_503NotFound404After()
    {
        var registry = new ModelRegistry();

        Assert.Equal(503, RequestValidator.ResolveModel(registry, "x", out _)!.Status);
        registry.MarkConfigured();
        Assert.Equal(404, RequestValidator.ResolveModel(registry, "x", out _)!.Status);
    }

    [Fact]
    public void ResolveModel_Failed_503WithReason()
    {
        var registry = new ModelRegistry();
        var model = new ServedModel("m", "/tmp/m.gguf", null);
        model.MarkFailed("not a GGUF file");
        registry.Add(model);
        registry.MarkConfigured();

        var error = RequestValidator.ResolveModel(registry, "m", out _);

        Assert.Equal(503, error!.Status);
        Assert.Contains("not a GGUF file", error.Message, StringComparison.Ordinal);
    }
}
