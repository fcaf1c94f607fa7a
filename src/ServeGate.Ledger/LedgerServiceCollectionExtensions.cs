using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ServeGate.Ledger;

public static class LedgerServiceCollectionExtensions
{
    /// <summary>Adds the usage ledger: options (validated at start), the store (SQLite unless configured otherwise) and the background writer.</summary>
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
        // Another store (Store=Postgres) is a keyed IUsageStore its adapter project registers (AddServeGatePostgresLedger).
        services.TryAddSingleton<IUsageStore>(sp => sp.GetRequiredService<IOptions<MeteringOptions>>().Value is { Store: not LedgerStoreKind.Sqlite } options
            ? sp.GetKeyedService<IUsageStore>(options.Store) ?? throw new InvalidOperationException($"ServeGate:Metering:Store is {options.Store}, whose adapter is not registered.")
            : new SqliteUsageStore(sp.GetRequiredService<IOptions<MeteringOptions>>().Value.ResolveDatabasePath()));
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
