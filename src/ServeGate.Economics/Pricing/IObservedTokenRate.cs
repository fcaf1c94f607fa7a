namespace ServeGate.Economics.Pricing;

/// <summary>
/// Tokens per second a model is observed to serve: converts straight-line amortization (months) into tokens. The
/// gateway feeds it from the ledger; <see cref="RunningTokenRate"/> counts in this process until then.
/// </summary>
public interface IObservedTokenRate
{
    double TokensPerSecond(string model);

    /// <summary>Told of each priced request's tokens (a ledger-fed rate may ignore it).</summary>
    void Observe(string model, long tokens)
    {
    }
}
