namespace ServeGate.Economics.Configuration;

/// <summary>Over how many tokens a checkpoint's training cost is spread.</summary>
public enum AmortizationBasis
{
    /// <summary>A number of tokens expected over the checkpoint's life (<see cref="CheckpointOptions.LifetimeTokens"/>).</summary>
    LifetimeTokens,

    /// <summary>Straight-line over <see cref="CheckpointOptions.Months"/>, converted to tokens at the observed token rate.</summary>
    StraightLine,
}
