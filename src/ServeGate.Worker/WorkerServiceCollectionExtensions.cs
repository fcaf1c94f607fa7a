using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServeGate.LlamaCpp;
using ServeGate.Worker.Api;
using ServeGate.Worker.Models;
using ServeGate.Worker.Scheduling;

namespace ServeGate.Worker;

public static class WorkerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the worker: options (validated at start, every error at once), the model registry and the loader that
    /// starts llama.cpp and the per-model schedulers. Map its endpoints with <c>MapOpenAiApi()</c>.
    /// </summary>
    public static IHostApplicationBuilder AddServeGateWorker(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.SectionName);
        builder.Services.AddOptions<LlamaBackendOptions>().BindConfiguration(LlamaBackendOptions.SectionName);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>());
        builder.Services.AddOptions<WorkerOptions>().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<ModelRegistry>();
        builder.Services.TryAddSingleton<SchedulerMetrics>();
        builder.Services.TryAddSingleton<FinalUsageRegistry>();
        builder.Services.TryAddSingleton<IDemoModelSource, DemoModelSource>();
        builder.Services.AddHostedService<ModelLoaderService>();
        return builder;
    }

    private sealed class WorkerOptionsValidator : IValidateOptions<WorkerOptions>
    {
        public ValidateOptionsResult Validate(string? name, WorkerOptions options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
