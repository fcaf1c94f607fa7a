namespace ServeGate.LlamaCpp;

/// <summary>How an embedding context pools a sequence's token vectors into one (llama.cpp's <c>llama_pooling_type</c>).</summary>
public enum LlamaPoolingType
{
    /// <summary>The mean of every token's final hidden state.</summary>
    Mean = 1,

    /// <summary>The first token's (encoder models).</summary>
    Cls = 2,

    /// <summary>The last token's: for causal models it has seen the whole input.</summary>
    Last = 3,
}
