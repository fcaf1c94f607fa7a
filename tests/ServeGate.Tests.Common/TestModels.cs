using ServeGate.Models;
using ServeGate.Worker.Models;

namespace ServeGate.Tests.Common;

/// <summary>Generated models the tests run on (cached in $SERVEGATE_CACHE/models, so generated once per machine).</summary>
public enum TestModel
{
    /// <summary>The demo base model: Tiny shape, llama SPM tokenizer, random weights, Q4_K_M.</summary>
    TinyBase,

    /// <summary>The same weights with a ChatML chat template.</summary>
    TinyInstruct,
}

public static class TestModels
{
    public static async Task<string> GetAsync(TestModel model)
    {
        TestEnvironment.InitializeLlama();
        var spec = LlamaModelSpec.Tiny with { Variant = model == TestModel.TinyInstruct ? ModelVariant.Instruct : ModelVariant.Base };
        return await DemoModelSource.EnsureAsync(spec, DemoModelSource.FileType, new LlamaGgufQuantizer(), null, CancellationToken.None);
    }
}
