using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ServeGate.Economics.Catalogs;
using ServeGate.Economics.Configuration;
using ServeGate.Economics.Pricing;
using ServeGate.Economics.Reports;
using ServeGate.Ledger;

namespace ServeGate.Gateway.Economics;

/// <summary>The cost model in the gateway: every usage record priced when written, and the report's builder.</summary>
public static class EconomicsServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="EconomicsOptions"/> (validated at start, every error at once), the resolved settings, the observed
    /// token rate (fed from the ledger's last days at start, then counted in-process), the <see cref="UsagePricer"/> and the <see cref="EconomicsReportBuilder"/>.
    /// </summary>
    public static IServiceCollection AddServeGateEconomics(this IServiceCollection services)
    {
        services.AddOptions<EconomicsOptions>().BindConfiguration(EconomicsOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EconomicsOptions>, EconomicsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => EconomicsSettings.Create(sp.GetRequiredService<IOptions<EconomicsOptions>>().Value));
        services.TryAddSingleton<IObservedTokenRate>(sp => new RunningTokenRate(sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<TokenRateSeeder>(); // the rate carries over a restart: read from the ledger at start
        services.TryAddSingleton(sp => new UsagePricer(sp.GetRequiredService<EconomicsSettings>(), sp.GetRequiredService<IObservedTokenRate>()));
        services.TryAddSingleton(sp => new EconomicsReportBuilder(sp.GetRequiredService<EconomicsSettings>()));
        services.TryAddSingleton<IPoolPriceSource, EconomicsPoolPriceSource>();
        return services;
    }

    private sealed class EconomicsOptionsValidator : IValidateOptions<EconomicsOptions>
    {
        public ValidateOptionsResult Validate(string? name, EconomicsOptions options)
        {
            var errors = options.Validate(EconomicsCatalog.BuiltIn).ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
