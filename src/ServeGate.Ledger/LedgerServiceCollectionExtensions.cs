using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ServeGate.Ledger;

public static class LedgerServiceCollectionExtensions
{
    /// <summary>Adds the usage ledger: options (validated at start), the SQLite store and the background writer.</summary>
    public static IServiceCollection AddServeGateLedger(this IServiceCollection services)
    {
        services.AddOptions<MeteringOptions>().BindConfiguration(MeteringOptions.SectionName)
            .PostConfigure<Microsoft.Extensions.Configuration.IConfiguration>((options, configuration) =>
            {
                if (configuration[MeteringOptions.DataDirectoryKey] is { Length: > 0 } dataDirectory)
                {
                    options.DataDirectory = dataDirectory;
                }
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MeteringOptions>, MeteringOptionsValidator>());
        services.TryAddSingleton<IUsageStore>(sp => new SqliteUsageStore(sp.GetRequiredService<IOptions<MeteringOptions>>().Value.ResolveDatabasePath()));
        services.TryAddSingleton<IPoolPriceSource, ZeroPoolPriceSource>();
        services.TryAddSingleton<UsageWriter>(sp => new UsageWriter(
            sp.GetRequiredService<IUsageStore>(), sp.GetRequiredService<IOptions<MeteringOptions>>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<UsageWriter>>(), sp.GetService<TimeProvider>()));
        services.AddHostedService(sp => sp.GetRequiredService<UsageWriter>());
        return services;
    }

    private sealed class MeteringOptionsValidator : IValidateOptions<MeteringOptions>
    {
        public ValidateOptionsResult Validate(string? name, MeteringOptions options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
