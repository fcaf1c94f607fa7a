using ServeGate.Tests.Common;

namespace ServeGate.LlamaCpp.Tests;

/// <summary>Tokenizer functions against the real vocab-only GGUF files shipped in the pinned llama.cpp source.</summary>
public sealed class TokenizerTests : IDisposable
{
    private readonly LlamaModel _spm;

    public TokenizerTests()
    {
        TestEnvironment.InitializeLlama();
        _spm = LlamaModel.Load(TestEnvironment.VocabFile("llama-spm"), new LlamaModelLoadOptions { VocabOnly = true });
    }

    public void Dispose() => _spm.Dispose();

    [Fact]
    public void Load_VocabOnly_ReadsVocabularyMetadata()
    {
        Assert.Equal(32000, _spm.VocabSize);
        Assert.True(_spm.AddBos);
        Assert.Equal(1, _spm.Bos.Value);
        Assert.Equal(2, _spm.Eos.Value);
        Assert.True(_spm.IsEndOfGeneration(_spm.Eos));
        Assert.Equal("llama", _spm.GetMetadata("tokenizer.ggml.model"));
        Assert.Null(_spm.GetMetadata("no.such.key"));
    }

    [Theory]
    [InlineData("Hello world")]
    [InlineData("Grüße, 東京! 🎉 emoji and\nnew lines")]
    [InlineData("")]
    public void Tokenize_ThenDetokenize_RoundTrips(string text)
    {
        var tokens = _spm.Tokenize(text, addSpecial: false, parseSpecial: false);

        Assert.Equal(text, _spm.Detokenize(tokens));
    }

    [Fact]
    public void Tokenize_AddSpecial_PrependsBos()
    {
        var tokens = _spm.Tokenize("Hello", addSpecial: true, parseSpecial: false);

        Assert.Equal(_spm.Bos, tokens[0]);
    }

    [Fact]
    public void Tokenize_LongText_GrowsBuffer()
    {
        var text = string.Concat(Enumerable.Repeat("a b c d e f g ", 2000));

        var tokens = _spm.Tokenize(text, addSpecial: false, parseSpecial: false);

        Assert.True(tokens.Length > text.Length / 4);
        Assert.Equal(text, _spm.Detokenize(tokens));
    }

    [Fact]
    public void TokenToPiece_MultiByteCharacter_SplitsIntoByteTokens()
    {
        // "🎉" is not in the SPM vocabulary: it is four byte-fallback tokens whose pieces only form UTF-8 together.
        var tokens = _spm.Tokenize("🎉", addSpecial: false, parseSpecial: false);
        var bytes = new List<byte>();
        Span<byte> piece = stackalloc byte[64];
        foreach (var token in tokens)
        {
            var n = _spm.TokenToPiece(token, piece);
            bytes.AddRange(piece[..n].ToArray());
        }

        Assert.Equal("🎉", System.Text.Encoding.UTF8.GetString(bytes.ToArray()).Trim());
    }

    [Fact]
    public void ApplyChatTemplate_ChatMl_FormatsTurnsAndOpensAssistant()
    {
        const string ChatMl = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

        var text = _spm.ApplyChatTemplate([new ChatTurn("system", "Be brief."), new ChatTurn("user", "Hi")], addAssistant: true, ChatMl);

        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", text);
    }

    [Fact]
    public void ApplyChatTemplate_NoTemplate_Throws()
    {
        Assert.Null(_spm.ChatTemplate);

        Assert.Throws<LlamaException>(() => _spm.ApplyChatTemplate([new ChatTurn("user", "Hi")], addAssistant: true));
    }
}
