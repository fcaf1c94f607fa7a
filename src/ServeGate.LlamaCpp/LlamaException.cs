namespace ServeGate.LlamaCpp;

/// <summary>A llama.cpp call failed, or the native libraries could not be used; the message says what to do.</summary>
public sealed class LlamaException : Exception
{
    public LlamaException(string message)
        : base(message)
    {
    }

    public LlamaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
