namespace ServeGate.Economics.Configuration;

/// <summary>How the variants of one checkpoint share its pretraining cost.</summary>
public enum PretrainingSplit
{
    /// <summary>By tokens served: every token of every variant carries the same pretraining share.</summary>
    ByTokens,

    /// <summary>Equally: each variant carries pretraining / variants, spread over its own tokens.</summary>
    Equally,
}
