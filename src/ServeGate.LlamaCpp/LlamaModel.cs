using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.LlamaCpp;

/// <summary>How to load a model.</summary>
public sealed record LlamaModelLoadOptions
{
    /// <summary>Layers offloaded to a GPU (-1: all); ignored by the CPU build.</summary>
    public int GpuLayers { get; init; } = -1;

    /// <summary>Load only the tokenizer (no weights): for tokenizer-only work and tests.</summary>
    public bool VocabOnly { get; init; }

    /// <summary>
    /// Let llama.cpp repack weights for its fastest CPU kernels (<c>use_extra_bufts</c>). Those kernels take a different
    /// path for one row than for several, so a sequence's logits then depend slightly on the batch it is decoded in;
    /// turn this off for batch-invariant output.
    /// </summary>
    public bool RepackWeights { get; init; } = true;
}

/// <summary>One chat message for <see cref="LlamaModel.ApplyChatTemplate"/>.</summary>
public readonly record struct ChatTurn(string Role, string Content);

/// <summary>
/// A loaded GGUF model: weights, vocabulary and metadata. Thread-safe for the read-only operations here
/// (tokenize, detokenize, metadata); decoding happens in a <see cref="LlamaContext"/>, which is not.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private readonly SafeLlamaModelHandle _handle;
    private readonly nint _vocab;

    private LlamaModel(SafeLlamaModelHandle handle, string path, bool vocabOnly, bool offloadsToGpu)
    {
        _handle = handle;
        Path = path;
        OffloadsToGpu = offloadsToGpu;
        _vocab = NativeMethods.llama_model_get_vocab(handle);
        VocabSize = NativeMethods.llama_vocab_n_tokens(_vocab);
        TrainedContextLength = NativeMethods.llama_model_n_ctx_train(handle);
        EmbeddingLength = NativeMethods.llama_model_n_embd(handle);
        LayerCount = NativeMethods.llama_model_n_layer(handle);

        // The per-layer getters abort the process on a model without layers (vocab-only): llama-hparams.cpp asserts il < n_layer.
        if (!vocabOnly && LayerCount > 0)
        {
            HeadCount = NativeMethods.llama_model_n_head(handle);
            KvHeadCount = NativeMethods.llama_model_n_head_kv(handle);
        }

        SizeBytes = NativeMethods.llama_model_size(handle);
        ParameterCount = NativeMethods.llama_model_n_params(handle);
        FileType = NativeMethods.llama_model_ftype(handle);
        AddBos = NativeMethods.llama_vocab_get_add_bos(_vocab);
        Bos = NativeMethods.llama_vocab_bos(_vocab);
        Eos = NativeMethods.llama_vocab_eos(_vocab);
        unsafe
        {
            FileTypeName = LlamaBackend.Utf8(NativeMethods.llama_ftype_name(FileType));
            var template = NativeMethods.llama_model_chat_template(handle, null);
            ChatTemplate = template is null ? null : LlamaBackend.Utf8(template);
            Span<byte> buffer = stackalloc byte[256];
            fixed (byte* b = buffer)
            {
                var n = NativeMethods.llama_model_desc(handle, b, (nuint)buffer.Length);
                Description = n > 0 ? Encoding.UTF8.GetString(buffer[..Math.Min(n, buffer.Length - 1)]) : string.Empty;
            }
        }
    }

    internal SafeLlamaModelHandle Handle => _handle;

    internal nint Vocab => _vocab;

    public string Path { get; }

    public int VocabSize { get; }

    public int TrainedContextLength { get; }

    public int EmbeddingLength { get; }

    public int LayerCount { get; }

    public int HeadCount { get; }

    public int KvHeadCount { get; }

    public ulong SizeBytes { get; }

    public ulong ParameterCount { get; }

    public LlamaFileType FileType { get; }

    /// <summary>llama.cpp's name of the quantization, e.g. "Q4_K - Medium".</summary>
    public string FileTypeName { get; }

    /// <summary>llama.cpp's description, e.g. "llama 135M Q4_K - Medium".</summary>
    public string Description { get; }

    /// <summary>Whether layers (and with them their KV cache) live on a GPU: some were asked for and a GPU device exists.</summary>
    public bool OffloadsToGpu { get; }

    /// <summary>The GGUF's <c>tokenizer.chat_template</c>, or null for a base model.</summary>
    public string? ChatTemplate { get; }

    public bool AddBos { get; }

    public LlamaToken Bos { get; }

    public LlamaToken Eos { get; }

    /// <summary>Loads a GGUF file. <see cref="LlamaBackend.Initialize"/> must have run.</summary>
    public static LlamaModel Load(string path, LlamaModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (LlamaBackend.Info is null)
        {
            throw new InvalidOperationException("LlamaBackend.Initialize must be called before loading a model.");
        }

        if (!File.Exists(path))
        {
            throw new LlamaException($"Model file '{path}' does not exist.");
        }

        options ??= new LlamaModelLoadOptions();
        var parameters = NativeMethods.llama_model_default_params();
        parameters.NGpuLayers = options.GpuLayers;
        parameters.VocabOnly = options.VocabOnly ? (byte)1 : (byte)0;
        parameters.UseExtraBufts = options.RepackWeights ? (byte)1 : (byte)0;
        var handle = NativeMethods.llama_model_load_from_file(path, parameters);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new LlamaException($"llama.cpp could not load '{path}' (not a GGUF file, an unsupported architecture, or a truncated file; the log says which).");
        }

        var offloads = !options.VocabOnly && options.GpuLayers != 0 && LlamaBackend.Info.Devices.Any(d => d.Type == GgmlDeviceType.Gpu);
        return new LlamaModel(handle, System.IO.Path.GetFullPath(path), options.VocabOnly, offloads);
    }

    /// <summary>A GGUF metadata value as a string, or null when the key is absent.</summary>
    public unsafe string? GetMetadata(string key)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            fixed (byte* b = buffer)
            {
                var n = NativeMethods.llama_model_meta_val_str(_handle, key, b, (nuint)buffer.Length);
                return n < 0 ? null : Encoding.UTF8.GetString(buffer, 0, Math.Min(n, buffer.Length - 1));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public bool IsEndOfGeneration(LlamaToken token) => NativeMethods.llama_vocab_is_eog(_vocab, token);

    /// <summary>Tokenizes UTF-8 text. <paramref name="addSpecial"/> adds BOS where the model wants it.</summary>
    public LlamaToken[] Tokenize(string text, bool addSpecial, bool parseSpecial)
    {
        ArgumentNullException.ThrowIfNull(text);
        var byteCount = Encoding.UTF8.GetByteCount(text);
        var bytes = ArrayPool<byte>.Shared.Rent(Math.Max(1, byteCount));
        try
        {
            Encoding.UTF8.GetBytes(text, bytes);
            return Tokenize(bytes.AsSpan(0, byteCount), addSpecial, parseSpecial);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>Tokenizes UTF-8 bytes.</summary>
    public unsafe LlamaToken[] Tokenize(ReadOnlySpan<byte> utf8, bool addSpecial, bool parseSpecial)
    {
        var capacity = utf8.Length + 8;
        while (true)
        {
            var tokens = new LlamaToken[capacity];
            int n;
            fixed (byte* text = utf8)
            fixed (LlamaToken* t = tokens)
            {
                n = NativeMethods.llama_tokenize(_vocab, text, utf8.Length, t, capacity, addSpecial, parseSpecial);
            }

            if (n >= 0)
            {
                return n == capacity ? tokens : tokens[..n];
            }

            if (n == int.MinValue)
            {
                throw new LlamaException("The text is too long to tokenize (more than 2^31 tokens).");
            }

            capacity = -n;
        }
    }

    /// <summary>
    /// Writes the bytes of one token's text into <paramref name="destination"/> and returns how many were written.
    /// A token can be part of a multi-byte UTF-8 character: callers assemble bytes before decoding text.
    /// </summary>
    public unsafe int TokenToPiece(LlamaToken token, Span<byte> destination, bool renderSpecial = false)
    {
        fixed (byte* d = destination)
        {
            var n = NativeMethods.llama_token_to_piece(_vocab, token, d, destination.Length, 0, renderSpecial);
            if (n < 0)
            {
                throw new ArgumentException($"The buffer is too small for token {token}: {-n} bytes are needed.", nameof(destination));
            }

            return n;
        }
    }

    /// <summary>Decodes tokens to text (invalid UTF-8 at the edges becomes U+FFFD).</summary>
    public unsafe string Detokenize(ReadOnlySpan<LlamaToken> tokens, bool renderSpecial = false)
    {
        var capacity = Math.Max(16, tokens.Length * 8);
        while (true)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(capacity);
            try
            {
                int n;
                fixed (LlamaToken* t = tokens)
                fixed (byte* b = buffer)
                {
                    n = NativeMethods.llama_detokenize(_vocab, t, tokens.Length, b, buffer.Length, false, renderSpecial);
                }

                if (n >= 0)
                {
                    return Encoding.UTF8.GetString(buffer, 0, n);
                }

                capacity = -n;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// Formats a conversation with the model's own chat template (llama.cpp recognises the common template families),
    /// ending with the assistant's turn opened when <paramref name="addAssistant"/> is true.
    /// </summary>
    public unsafe string ApplyChatTemplate(IReadOnlyList<ChatTurn> messages, bool addAssistant, string? template = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        template ??= ChatTemplate ?? throw new LlamaException("The model has no chat template.");
        var handles = new List<GCHandle>(messages.Count * 2 + 1);
        try
        {
            byte* Pin(string s)
            {
                var bytes = Encoding.UTF8.GetBytes(s + "\0");
                var h = GCHandle.Alloc(bytes, GCHandleType.Pinned);
                handles.Add(h);
                return (byte*)h.AddrOfPinnedObject();
            }

            var native = new LlamaChatMessageNative[messages.Count];
            var totalLength = 0;
            for (var i = 0; i < messages.Count; i++)
            {
                native[i] = new LlamaChatMessageNative { Role = Pin(messages[i].Role), Content = Pin(messages[i].Content) };
                totalLength += Encoding.UTF8.GetByteCount(messages[i].Content) + Encoding.UTF8.GetByteCount(messages[i].Role);
            }

            var tmpl = Pin(template);
            var capacity = totalLength * 2 + 256;
            while (true)
            {
                var buffer = new byte[capacity];
                int n;
                fixed (LlamaChatMessageNative* m = native)
                fixed (byte* b = buffer)
                {
                    n = NativeMethods.llama_chat_apply_template(tmpl, m, (nuint)native.Length, addAssistant, b, buffer.Length);
                }

                if (n < 0)
                {
                    throw new LlamaException("llama.cpp does not support this model's chat template.");
                }

                if (n <= buffer.Length)
                {
                    return Encoding.UTF8.GetString(buffer, 0, n);
                }

                capacity = n;
            }
        }
        finally
        {
            foreach (var h in handles)
            {
                h.Free();
            }
        }
    }

    public void Dispose() => _handle.Dispose();
}
