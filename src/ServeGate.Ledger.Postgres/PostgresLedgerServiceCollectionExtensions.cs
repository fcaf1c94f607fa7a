using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ServeGate.Ledger.Postgres;

public static class PostgresLedgerServiceCollectionExtensions
{
    /// <summary>
    /// Makes <c>ServeGate:Metering:Store=Postgres</c> available: the store (keyed, picked by AddServeGateLedger), its
    /// connection string validated at start, and its schema created before the usage writer starts. Call it first.
    /// </summary>
    public static IServiceCollection AddServeGatePostgresLedger(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MeteringOptions>, PostgresMeteringOptionsValidator>());
        services.TryAddKeyedSingleton<IUsageStore>(LedgerStoreKind.Postgres, (sp, _) =>
            new PostgresUsageStore(sp.GetRequiredService<IOptions<MeteringOptions>>().Value.Postgres));
        services.AddHostedService<PostgresSchemaInitializer>();
        return services;
    }

    private sealed class PostgresMeteringOptionsValidator : IValidateOptions<MeteringOptions>
    {
        public ValidateOptionsResult Validate(string? name, MeteringOptions options)
        {
            if (options.Store != LedgerStoreKind.Postgres || string.IsNullOrWhiteSpace(options.Postgres))
            {
                return ValidateOptionsResult.Success; // MeteringOptions.Validate reports a missing one
            }

            try
            {
                var builder = new NpgsqlConnectionStringBuilder(options.Postgres);
                return string.IsNullOrWhiteSpace(builder.Host)
                    ? ValidateOptionsResult.Fail("ServeGate:Metering:Postgres names no Host.")
                    : ValidateOptionsResult.Success;
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
            {
                // The message, not the string: it may hold a password.
                return ValidateOptionsResult.Fail($"ServeGate:Metering:Postgres is not a valid connection string: {ex.Message}");
            }
        }
    }

    /// <summary>Creates the ledger's tables at start, so a wrong server or password stops the gateway at once.</summary>
    private sealed class PostgresSchemaInitializer(IServiceProvider services, IOptions<MeteringOptions> options) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            if (options.Value.Store == LedgerStoreKind.Postgres)
            {
                var store = (PostgresUsageStore)services.GetRequiredKeyedService<IUsageStore>(LedgerStoreKind.Postgres);
                await store.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
