using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;
using ServeGate.Worker.Inference;

namespace ServeGate.Worker.Tests;

/// <summary>
/// The grammar-constrained sampler draws from the distribution restricted to the tokens the grammar allows, whether
/// it finds one by drawing again without the rejected tokens or by masking the whole vocabulary.
/// </summary>
public sealed class GrammarSamplerTests(TinyModelFixture models) : IClassFixture<TinyModelFixture>
{
    private const string Grammar = "root ::= \"a\" | \"b\" | \"c\"";

    [Fact]
    public void Temperature_ManyTokensAllowed_RedrawsFollowTheRestrictedSoftmax()
    {
        // Thousands of tokens allowed (any lower-case word) and most of the mass on one that is not: the redraws decide.
        var logits = Row(("a", 0f), ("b", MathF.Log(2f)), ("c", MathF.Log(4f)), ("X", 6f));
        AssertFrequencies(logits, "root ::= [a-z]+");
    }

    [Fact]
    public void Temperature_RejectedMassOnOtherFirstCharacters_DrawsFollowTheRestrictedSoftmax()
    {
        // Most of the mass on a token the prefix test removes.
        var logits = Row(("a", 0f), ("b", MathF.Log(2f)), ("c", MathF.Log(4f)), ("x", 6f));
        AssertFrequencies(logits);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"")]
    [InlineData("{\"name\":")]
    [InlineData("{\"name\": \"ab")]
    [InlineData("{\"name\": \"ab\", \"qty\": 1")]
    [InlineData("{\"name\": \"ab\", \"qty\": 12, \"tags\": [\"n")]
    public void Mask_JsonSchemaStates_SameAsCheckingEveryToken(string prefix)
    {
        // The prefix test and the full check together must allow exactly what llama.cpp's grammar allows token by token.
        var model = models.Base;
        var gbnf = ServeGate.Worker.StructuredOutput.JsonSchemaGrammar.TryConvert(System.Text.Json.JsonDocument.Parse(
            """{"type":"object","properties":{"name":{"type":"string"},"qty":{"type":"integer"},"tags":{"type":"array","items":{"enum":["new","rare"]}}},"required":["name","qty","tags"]}""").RootElement, "schema", out _)!;
        using var grammar = LlamaGrammar.Create(model, gbnf);
        foreach (var c in prefix)
        {
            var token = Tokens(model).First(t => t.Piece == c.ToString()).Token;
            Assert.True(grammar.Allows(token));
            grammar.Accept(token);
        }

        var logits = new float[model.VocabSize];
        grammar.Mask(logits);
        var expected = Enumerable.Range(0, model.VocabSize).Where(id => grammar.Allows(new LlamaToken(id))).ToArray();
        var masked = Enumerable.Range(0, model.VocabSize).Where(id => !float.IsNegativeInfinity(logits[id])).ToArray();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, masked);
    }

    [Fact]
    public void Temperature_RejectedMassOnLongerTokensOfAnAllowedFirstCharacter_DrawsFollowTheRestrictedSoftmax()
    {
        // Most of the mass on more tokens than there are redraws, each starting with an allowed character but longer
        // than the grammar allows: the redraws mostly fail and the whole-vocabulary mask decides.
        var model = models.Base;
        var longer = LongerTokens(model, 'a', count: GrammarSampler.Redraws + 4);
        var logits = Row(("a", 0f), ("b", MathF.Log(2f)), ("c", MathF.Log(4f)));
        foreach (var token in longer)
        {
            logits[token.Value] = 6f;
        }

        AssertFrequencies(logits);
    }

    [Fact]
    public void Greedy_BestTokenRejected_TakesTheBestAllowed()
    {
        var model = models.Base;
        var logits = Row(("a", 1f), ("b", 3f), ("c", 2f), ("x", 9f));
        foreach (var token in LongerTokens(model, 'b', count: GrammarSampler.Redraws + 2))
        {
            logits[token.Value] = 8f;
        }

        using var sampler = TokenSampler.Create(model, new SamplingSettings { Temperature = 0f, Grammar = Grammar });
        Assert.Equal(Single(model, 'b'), sampler.Choose(logits));
    }

    [Fact]
    public void NothingAllowed_Exhausted()
    {
        var model = models.Base;
        var logits = Row(("x", 1f));
        // Every token that reads "a", "b" or "c" (a vocabulary can hold a character twice, e.g. as a byte token).
        var banned = Tokens(model).Where(t => t.Piece is "a" or "b" or "c").Select(t => t.Token).ToArray();
        var settings = new SamplingSettings { Temperature = 0f, Grammar = Grammar, BannedTokens = banned };
        using var sampler = TokenSampler.Create(model, settings);
        Assert.Equal(model.Eos, sampler.Choose(logits));
        Assert.True(sampler.Exhausted);
    }

    private void AssertFrequencies(float[] logits, string grammar = Grammar)
    {
        const int draws = 3000;
        var model = models.Base;
        var counts = new Dictionary<LlamaToken, int>();
        for (var i = 0; i < draws; i++)
        {
            using var sampler = TokenSampler.Create(model, new SamplingSettings { Temperature = 1f, Seed = (uint)i, Grammar = grammar });
            var token = sampler.Choose(logits);
            counts[token] = counts.GetValueOrDefault(token) + 1;
        }

        // a : b : c = 1 : 2 : 4 among the allowed tokens; nothing else. Three standard deviations of a binomial.
        Assert.Equal(3, counts.Count);
        foreach (var (c, expected) in new[] { ('a', 1 / 7.0), ('b', 2 / 7.0), ('c', 4 / 7.0) })
        {
            var observed = counts.GetValueOrDefault(Single(model, c)) / (double)draws;
            Assert.InRange(observed, expected - (3 * Math.Sqrt(expected * (1 - expected) / draws)), expected + (3 * Math.Sqrt(expected * (1 - expected) / draws)));
        }
    }

    private float[] Row(params (string Piece, float Logit)[] entries)
    {
        var model = models.Base;
        var logits = Enumerable.Repeat(-30f, model.VocabSize).ToArray();
        foreach (var (piece, logit) in entries)
        {
            logits[Single(model, piece[0]).Value] = logit;
        }

        return logits;
    }

    private static LlamaToken Single(LlamaModel model, char c) => Tokens(model).First(t => t.Piece == c.ToString()).Token;

    private static LlamaToken[] LongerTokens(LlamaModel model, char first, int count)
    {
        var longer = Tokens(model).Where(t => t.Piece.Length > 1 && t.Piece[0] == first && t.Piece.All(char.IsAsciiLetter)).Select(t => t.Token).Take(count).ToArray();
        Assert.Equal(count, longer.Length);
        return longer;
    }

    private static IEnumerable<(LlamaToken Token, string Piece)> Tokens(LlamaModel model)
    {
        var buffer = new byte[64];
        for (var id = 0; id < model.VocabSize; id++)
        {
            var token = new LlamaToken(id);
            if (model.IsEndOfGeneration(token))
            {
                continue;
            }

            var length = model.TokenToPiece(token, buffer);
            if (length > 0)
            {
                yield return (token, System.Text.Encoding.UTF8.GetString(buffer, 0, length));
            }
        }
    }
}
