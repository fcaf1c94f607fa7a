using System.Runtime.InteropServices;

namespace ServeGate.LlamaCpp.Native;

/// <summary>
/// <c>[LibraryImport]</c> declarations of the llama.h and ggml-backend.h functions ServeGate calls. The library names
/// are resolved to full paths by <see cref="LlamaBackend"/> (the pinned build's files carry a version suffix).
/// Handles that are only borrowed (vocab, memory, samplers inside a chain) stay <see cref="nint"/>.
/// </summary>
internal static unsafe partial class NativeMethods
{
    internal const string Llama = "llama";
    internal const string Ggml = "ggml";
    internal const string GgmlBase = "ggml-base";

    // ---- backend and logging ----
    [LibraryImport(Ggml, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void ggml_backend_load_all_from_path(string dirPath);

    [LibraryImport(Ggml, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint ggml_backend_load(string path);

    [LibraryImport(Ggml)]
    internal static partial nuint ggml_backend_dev_count();

    [LibraryImport(Ggml)]
    internal static partial nint ggml_backend_dev_get(nuint index);

    [LibraryImport(GgmlBase)]
    internal static partial byte* ggml_backend_dev_name(nint device);

    [LibraryImport(GgmlBase)]
    internal static partial byte* ggml_backend_dev_description(nint device);

    [LibraryImport(GgmlBase)]
    internal static partial GgmlDeviceType ggml_backend_dev_type(nint device);

    [LibraryImport(GgmlBase)]
    internal static partial void ggml_backend_dev_memory(nint device, out nuint free, out nuint total);

    [LibraryImport(Ggml)]
    internal static partial nint ggml_backend_dev_by_type(GgmlDeviceType type);

    [LibraryImport(GgmlBase)]
    internal static partial nint ggml_backend_dev_backend_reg(nint device);

    [LibraryImport(GgmlBase, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void* ggml_backend_reg_get_proc_address(nint registry, string name);

    [LibraryImport(GgmlBase)]
    internal static partial GgmlThreadpoolParams ggml_threadpool_params_default(int threads);

    [LibraryImport(Llama)]
    internal static partial void llama_backend_init();

    [LibraryImport(Llama)]
    internal static partial void llama_log_set(delegate* unmanaged[Cdecl]<GgmlLogLevel, byte*, nint, void> callback, nint userData);

    [LibraryImport(Llama)]
    internal static partial byte* llama_print_system_info();

    [LibraryImport(Llama)]
    internal static partial long llama_time_us();

    [LibraryImport(Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_supports_gpu_offload();

    // ---- defaults ----
    [LibraryImport(Llama)]
    internal static partial LlamaModelParams llama_model_default_params();

    [LibraryImport(Llama)]
    internal static partial LlamaContextParams llama_context_default_params();

    [LibraryImport(Llama)]
    internal static partial LlamaSamplerChainParams llama_sampler_chain_default_params();

    [LibraryImport(Llama)]
    internal static partial LlamaModelQuantizeParams llama_model_quantize_default_params();

    // ---- model ----
    [LibraryImport(Llama, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial SafeLlamaModelHandle llama_model_load_from_file(string path, LlamaModelParams parameters);

    [LibraryImport(Llama)]
    internal static partial void llama_model_free(nint model);

    [LibraryImport(Llama, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint llama_model_quantize(string inputPath, string outputPath, in LlamaModelQuantizeParams parameters);

    [LibraryImport(Llama)]
    internal static partial nint llama_model_get_vocab(SafeLlamaModelHandle model);

    [LibraryImport(Llama)]
    internal static partial int llama_model_n_ctx_train(SafeLlamaModelHandle model);

    [LibraryImport(Llama)]
    internal static partial int llama_model_n_embd(SafeLlamaModelHandle model);

    [LibraryImport(Llama)]
    internal static partial int llama_model_n_layer(SafeLlamaModelHandle model);

    [LibraryImport(Llama)]
    internal static partial int llama_model_n_head(SafeLlamaModelHandle model);

    [LibraryImport(Llama)]
    internal static partial int llama_model_n_head_kv(SafeLlamaModelHandle model);

    [LibraryImport(Llama)]
    internal static partial ulong llama_model_size(SafeLlamaModelHandle model);

    [LibraryImport(Llama)]
    internal static partial ulong llama_model_n_params(SafeLlamaModelHandle model);

    [LibraryImport(Llama)]
    internal static partial LlamaFileType llama_model_ftype(SafeLlamaModelHandle model);

    [LibraryImport(Llama)]
    internal static partial byte* llama_ftype_name(LlamaFileType fileType);

    [LibraryImport(Llama)]
    internal static partial int llama_model_desc(SafeLlamaModelHandle model, byte* buffer, nuint bufferSize);

    [LibraryImport(Llama, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int llama_model_meta_val_str(SafeLlamaModelHandle model, string key, byte* buffer, nuint bufferSize);

    [LibraryImport(Llama)]
    internal static partial byte* llama_model_chat_template(SafeLlamaModelHandle model, byte* name);

    [LibraryImport(Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_model_has_encoder(SafeLlamaModelHandle model);

    // ---- vocab ----
    [LibraryImport(Llama)]
    internal static partial int llama_vocab_n_tokens(nint vocab);

    [LibraryImport(Llama)]
    internal static partial LlamaToken llama_vocab_bos(nint vocab);

    [LibraryImport(Llama)]
    internal static partial LlamaToken llama_vocab_eos(nint vocab);

    [LibraryImport(Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_vocab_is_eog(nint vocab, LlamaToken token);

    [LibraryImport(Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_vocab_get_add_bos(nint vocab);

    [LibraryImport(Llama)]
    internal static partial int llama_tokenize(
        nint vocab,
        byte* text,
        int textLength,
        LlamaToken* tokens,
        int maxTokens,
        [MarshalAs(UnmanagedType.U1)] bool addSpecial,
        [MarshalAs(UnmanagedType.U1)] bool parseSpecial);

    [LibraryImport(Llama)]
    internal static partial int llama_token_to_piece(
        nint vocab,
        LlamaToken token,
        byte* buffer,
        int length,
        int lstrip,
        [MarshalAs(UnmanagedType.U1)] bool special);

    [LibraryImport(Llama)]
    internal static partial int llama_detokenize(
        nint vocab,
        LlamaToken* tokens,
        int tokenCount,
        byte* text,
        int textLengthMax,
        [MarshalAs(UnmanagedType.U1)] bool removeSpecial,
        [MarshalAs(UnmanagedType.U1)] bool unparseSpecial);

    [LibraryImport(Llama)]
    internal static partial int llama_chat_apply_template(
        byte* template,
        LlamaChatMessageNative* messages,
        nuint messageCount,
        [MarshalAs(UnmanagedType.U1)] bool addAssistant,
        byte* buffer,
        int length);

    // ---- context ----
    [LibraryImport(Llama)]
    internal static partial SafeLlamaContextHandle llama_init_from_model(SafeLlamaModelHandle model, LlamaContextParams parameters);

    [LibraryImport(Llama)]
    internal static partial void llama_free(nint context);

    [LibraryImport(Llama)]
    internal static partial void llama_attach_threadpool(SafeLlamaContextHandle context, nint threadpool, nint threadpoolBatch);

    [LibraryImport(Llama)]
    internal static partial void llama_detach_threadpool(SafeLlamaContextHandle context);

    [LibraryImport(Llama)]
    internal static partial uint llama_n_ctx(SafeLlamaContextHandle context);

    [LibraryImport(Llama)]
    internal static partial uint llama_n_ctx_seq(SafeLlamaContextHandle context);

    [LibraryImport(Llama)]
    internal static partial uint llama_n_batch(SafeLlamaContextHandle context);

    [LibraryImport(Llama)]
    internal static partial uint llama_n_ubatch(SafeLlamaContextHandle context);

    [LibraryImport(Llama)]
    internal static partial uint llama_n_seq_max(SafeLlamaContextHandle context);

    [LibraryImport(Llama)]
    internal static partial nint llama_get_memory(SafeLlamaContextHandle context);

    [LibraryImport(Llama)]
    internal static partial int llama_decode(SafeLlamaContextHandle context, LlamaBatchNative batch);

    [LibraryImport(Llama)]
    internal static partial float* llama_get_logits_ith(SafeLlamaContextHandle context, int index);

    [LibraryImport(Llama)]
    internal static partial float* llama_get_embeddings_seq(SafeLlamaContextHandle context, LlamaSeqId sequence);

    [LibraryImport(Llama)]
    internal static partial void llama_set_n_threads(SafeLlamaContextHandle context, int threads, int threadsBatch);

    [LibraryImport(Llama)]
    internal static partial LlamaPerfContextData llama_perf_context(SafeLlamaContextHandle context);

    [LibraryImport(Llama)]
    internal static partial void llama_perf_context_reset(SafeLlamaContextHandle context);

    // ---- batch ----
    [LibraryImport(Llama)]
    internal static partial LlamaBatchNative llama_batch_init(int tokens, int embd, int seqMax);

    [LibraryImport(Llama)]
    internal static partial void llama_batch_free(LlamaBatchNative batch);

    // ---- memory (KV cache) ----
    [LibraryImport(Llama)]
    internal static partial void llama_memory_clear(nint memory, [MarshalAs(UnmanagedType.U1)] bool data);

    [LibraryImport(Llama)]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool llama_memory_seq_rm(nint memory, LlamaSeqId seq, LlamaPos p0, LlamaPos p1);

    [LibraryImport(Llama)]
    internal static partial void llama_memory_seq_cp(nint memory, LlamaSeqId source, LlamaSeqId destination, LlamaPos p0, LlamaPos p1);

    [LibraryImport(Llama)]
    internal static partial void llama_memory_seq_keep(nint memory, LlamaSeqId seq);

    [LibraryImport(Llama)]
    internal static partial LlamaPos llama_memory_seq_pos_min(nint memory, LlamaSeqId seq);

    [LibraryImport(Llama)]
    internal static partial LlamaPos llama_memory_seq_pos_max(nint memory, LlamaSeqId seq);

    // ---- state ----
    [LibraryImport(Llama)]
    internal static partial nuint llama_state_seq_get_size(SafeLlamaContextHandle context, LlamaSeqId seq);

    [LibraryImport(Llama)]
    internal static partial nuint llama_state_seq_get_data(SafeLlamaContextHandle context, byte* destination, nuint size, LlamaSeqId seq);

    [LibraryImport(Llama)]
    internal static partial nuint llama_state_seq_set_data(SafeLlamaContextHandle context, byte* source, nuint size, LlamaSeqId destination);

    [LibraryImport(Llama, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nuint llama_state_seq_save_file(SafeLlamaContextHandle context, string path, LlamaSeqId seq, LlamaToken* tokens, nuint tokenCount);

    [LibraryImport(Llama, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nuint llama_state_seq_load_file(SafeLlamaContextHandle context, string path, LlamaSeqId destination, LlamaToken* tokens, nuint capacity, out nuint tokenCount);

    // ---- samplers ----
    [LibraryImport(Llama)]
    internal static partial SafeLlamaSamplerHandle llama_sampler_chain_init(LlamaSamplerChainParams parameters);

    [LibraryImport(Llama)]
    internal static partial void llama_sampler_chain_add(SafeLlamaSamplerHandle chain, nint sampler);

    [LibraryImport(Llama)]
    internal static partial nint llama_sampler_init_greedy();

    [LibraryImport(Llama)]
    internal static partial nint llama_sampler_init_dist(uint seed);

    [LibraryImport(Llama)]
    internal static partial nint llama_sampler_init_top_k(int k);

    [LibraryImport(Llama)]
    internal static partial nint llama_sampler_init_top_p(float p, nuint minKeep);

    [LibraryImport(Llama)]
    internal static partial nint llama_sampler_init_min_p(float p, nuint minKeep);

    [LibraryImport(Llama)]
    internal static partial nint llama_sampler_init_temp(float temperature);

    [LibraryImport(Llama)]
    internal static partial nint llama_sampler_init_penalties(int vocabSize, int lastN, float repeat, float frequency, float presence);

    [LibraryImport(Llama)]
    internal static partial nint llama_sampler_init_logit_bias(int vocabSize, int count, LlamaLogitBias* biases);

    /// <summary>NULL when <paramref name="grammar"/> does not parse (llama.cpp logs why to stderr).</summary>
    [LibraryImport(Llama, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint llama_sampler_init_grammar(nint vocab, string grammar, string root);

    [LibraryImport(Llama)]
    internal static partial void llama_sampler_apply(SafeLlamaSamplerHandle sampler, LlamaTokenDataArray* candidates);

    [LibraryImport(Llama)]
    internal static partial LlamaToken llama_sampler_sample(SafeLlamaSamplerHandle sampler, SafeLlamaContextHandle context, int index);

    [LibraryImport(Llama)]
    internal static partial void llama_sampler_accept(SafeLlamaSamplerHandle sampler, LlamaToken token);

    [LibraryImport(Llama)]
    internal static partial void llama_sampler_reset(SafeLlamaSamplerHandle sampler);

    [LibraryImport(Llama)]
    internal static partial void llama_sampler_free(nint sampler);
}

/// <summary><c>struct llama_logit_bias</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LlamaLogitBias
{
    public LlamaToken Token;
    public float Bias;
}
