using System.Text.Json;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;
using ServeGate.Worker.StructuredOutput;

namespace ServeGate.Worker.Tests;

/// <summary>
/// The JSON Schema to GBNF converter, checked through llama.cpp's own grammar engine: each text is fed one character
/// token at a time, so "matches" means the sampler would let exactly this text be generated and end there.
/// </summary>
public sealed class JsonSchemaGrammarTests(TinyModelFixture models) : IClassFixture<TinyModelFixture>
{
    private const string Path = "response_format.json_schema.schema";

    private string Grammar(string schema)
    {
        using var document = JsonDocument.Parse(schema);
        var grammar = JsonSchemaGrammar.TryConvert(document.RootElement, Path, out var error);
        Assert.Null(error);
        return grammar!;
    }

    private bool Matches(string grammar, string text) => Matches(models.Base, grammar, text);

    /// <summary>Whether the grammar lets <paramref name="text"/> be generated in full and then end.</summary>
    internal static bool Matches(LlamaModel model, string grammar, string text)
    {
        using var parsed = LlamaGrammar.Create(model, grammar);
        foreach (var c in text)
        {
            var token = CharacterToken(model, c);
            if (!parsed.Allows(token))
            {
                return false;
            }

            parsed.Accept(token);
        }

        return parsed.Allows(model.Eos);
    }

    private static readonly Dictionary<char, LlamaToken> Characters = [];

    private static LlamaToken CharacterToken(LlamaModel model, char c)
    {
        lock (Characters)
        {
            if (Characters.Count == 0)
            {
                var buffer = new byte[64];
                for (var id = 0; id < model.VocabSize; id++)
                {
                    var length = model.TokenToPiece(new LlamaToken(id), buffer);
                    if (length == 1 && buffer[0] < 0x80 && !model.IsEndOfGeneration(new LlamaToken(id)))
                    {
                        Characters.TryAdd((char)buffer[0], new LlamaToken(id));
                    }
                }
            }

            return Characters[c];
        }
    }

    [Theory]
    [InlineData("""{"a":1,"b":"x"}""", true)]
    [InlineData("""{"a": 1, "b": "x"}""", true)]
    [InlineData("""{"a":1}""", true)]
    [InlineData("""{"b":"x"}""", false)]
    [InlineData("""{"b":"x","a":1}""", false)]
    [InlineData("""{"a":1,"c":2}""", false)]
    [InlineData("""{"a":1,  "b":"x"}""", false)]
    [InlineData("""{"a":1.5}""", false)]
    public void Object_RequiredAndOptional_OnlyValidObjects(string text, bool valid)
    {
        var grammar = Grammar("""{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"],"additionalProperties":false}""");

        Assert.Equal(valid, Matches(grammar, text));
    }

    [Theory]
    [InlineData("""{}""", true)]
    [InlineData("""{"y":true}""", true)]
    [InlineData("""{"x":null,"z":[]}""", true)]
    [InlineData("""{"z":[],"x":null}""", false)]
    public void Object_AllOptional_AnySubsetInOrder(string text, bool valid)
    {
        var grammar = Grammar("""{"type":"object","properties":{"x":{"type":"null"},"y":{"type":"boolean"},"z":{"type":"array"}}}""");

        Assert.Equal(valid, Matches(grammar, text));
    }

    [Theory]
    [InlineData("[]", false)]
    [InlineData("[1]", true)]
    [InlineData("[1,2,3]", true)]
    [InlineData("[1,2,3,4]", false)]
    [InlineData("[1, 2]", true)]
    public void Array_MinAndMaxItems_Bounded(string text, bool valid)
    {
        Assert.Equal(valid, Matches(Grammar("""{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3}"""), text));
    }

    [Theory]
    [InlineData("\"ab\"", true)]
    [InlineData("\"a\"", false)]
    [InlineData("\"abcd\"", false)]
    [InlineData("\"a\\\"\"", true)]
    public void String_MinAndMaxLength_CountsCharacters(string text, bool valid)
    {
        Assert.Equal(valid, Matches(Grammar("""{"type":"string","minLength":2,"maxLength":3}"""), text));
    }

    [Theory]
    [InlineData("\"red\"", true)]
    [InlineData("42", true)]
    [InlineData("null", true)]
    [InlineData("\"blue\"", false)]
    public void Enum_OnlyListedValues(string text, bool valid)
    {
        Assert.Equal(valid, Matches(Grammar("""{"enum":["red",42,null]}"""), text));
    }

    [Theory]
    [InlineData("""{"k":"v"}""", true)]
    [InlineData("""{"k":"w"}""", false)]
    public void Const_OnlyThatValue(string text, bool valid)
    {
        Assert.Equal(valid, Matches(Grammar("""{"const":{"k":"v"}}"""), text));
    }

    [Theory]
    [InlineData("-12", true)]
    [InlineData("0", true)]
    [InlineData("012", false)]
    [InlineData("1.5", false)]
    public void Integer_NoFractionNoLeadingZero(string text, bool valid)
    {
        Assert.Equal(valid, Matches(Grammar("""{"type":"integer"}"""), text));
    }

    [Theory]
    [InlineData("-1.25e+3", true)]
    [InlineData("3", true)]
    [InlineData("1.", false)]
    [InlineData("true", false)]
    public void Number_JsonNumbers(string text, bool valid)
    {
        Assert.Equal(valid, Matches(Grammar("""{"type":"number"}"""), text));
    }

    [Theory]
    [InlineData("\"x\"", true)]
    [InlineData("null", true)]
    [InlineData("1", false)]
    public void TypeArray_AnyOfTheTypes(string text, bool valid)
    {
        Assert.Equal(valid, Matches(Grammar("""{"type":["string","null"]}"""), text));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("7", true)]
    [InlineData("\"s\"", false)]
    public void AnyOfAndOneOf_AnyAlternative(string text, bool valid)
    {
        Assert.Equal(valid, Matches(Grammar("""{"anyOf":[{"type":"boolean"},{"type":"integer"}]}"""), text));
        Assert.Equal(valid, Matches(Grammar("""{"oneOf":[{"type":"boolean"},{"type":"integer"}]}"""), text));
    }

    [Theory]
    [InlineData("""{"name":"a","children":[{"name":"b","children":[]}]}""", true)]
    [InlineData("""{"name":"a","children":[{"children":[]}]}""", false)]
    public void DefsAndRef_RecursiveSchemas(string text, bool valid)
    {
        var grammar = Grammar("""
            {"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["name","children"]}}}
            """);

        Assert.Equal(valid, Matches(grammar, text));
    }

    [Fact]
    public void AnyObject_ObjectsOnly()
    {
        Assert.True(Matches(JsonSchemaGrammar.AnyObject, """{"a":[1,{"b":null}],"c":"d"}"""));
        Assert.False(Matches(JsonSchemaGrammar.AnyObject, "[1]"));
        Assert.False(Matches(JsonSchemaGrammar.AnyObject, """{"a":1} """));
    }

    [Theory]
    [InlineData("""{"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991}""", "-42", true)] // zod .int()
    [InlineData("""{"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991}""", "123456789012345", true)]
    [InlineData("""{"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991}""", "9999999999999999", false)]
    [InlineData("""{"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991}""", "1.5", false)]
    [InlineData("""{"type":"integer","minimum":0,"maximum":9007199254740991}""", "0", true)] // .int().nonnegative()
    [InlineData("""{"type":"integer","minimum":0,"maximum":9007199254740991}""", "-1", false)]
    [InlineData("""{"type":"integer","exclusiveMinimum":0,"maximum":9007199254740991}""", "7", true)] // .int().positive()
    [InlineData("""{"type":"integer","exclusiveMinimum":0,"maximum":9007199254740991}""", "0", false)]
    [InlineData("""{"type":"number","minimum":0}""", "0.25", true)]
    [InlineData("""{"type":"number","minimum":0}""", "2e3", true)]
    [InlineData("""{"type":"number","minimum":0}""", "-0.25", false)]
    [InlineData("""{"type":"number","maximum":1e300}""", "-3.5", true)]
    [InlineData("""{"type":"number","maximum":1e300}""", "3e299", false)]
    public void Bounds_ZodIntegersAndNonNegatives_OnlyValuesInRange(string schema, string text, bool valid)
    {
        Assert.Equal(valid, Matches(Grammar(schema), text));
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"age":{"type":"integer","minimum":18}}}""", Path + ".properties.age.minimum")]
    [InlineData("""{"type":"string","pattern":"^a"}""", Path + ".pattern")]
    [InlineData("""{"type":"string","format":"email"}""", Path + ".format")]
    [InlineData("""{"allOf":[{"type":"string"}]}""", Path + ".allOf")]
    [InlineData("""{"type":"object","patternProperties":{"^x":{}}}""", Path + ".patternProperties")]
    [InlineData("""{"if":{"type":"string"},"then":{"minLength":1}}""", Path + ".if")]
    [InlineData("""{"type":"array","items":{"$ref":"https://example.com/s.json"}}""", Path + ".items.$ref")]
    [InlineData("""{"type":"array","items":[{"type":"string"}]}""", Path + ".items")]
    [InlineData("""{"anyOf":[{"type":"string"},{"type":"integer","multipleOf":2}]}""", Path + ".anyOf[1].multipleOf")]
    [InlineData("""{"type":"strin"}""", Path + ".type")]
    [InlineData("""{"type":"integer","minimum":1,"maximum":10}""", Path + ".maximum")]
    [InlineData("""{"type":"number","exclusiveMinimum":0}""", Path + ".exclusiveMinimum")]
    [InlineData("""{"type":"integer","minimum":"0"}""", Path + ".minimum")]
    public void Unsupported_RefusedWithTheKeywordsPath(string schema, string path)
    {
        using var document = JsonDocument.Parse(schema);

        var grammar = JsonSchemaGrammar.TryConvert(document.RootElement, Path, out var error);

        Assert.Null(grammar);
        Assert.NotNull(error);
        Assert.Equal(path, error.Path);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
