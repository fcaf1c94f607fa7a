using System.Globalization;
using System.Text.Json;
using ServeGate.Core.OpenAi;
using ServeGate.LlamaCpp;
using ServeGate.LlamaCpp.Native;

namespace ServeGate.Worker.StructuredOutput;

/// <summary>
/// Reads the request fields that constrain what is generated (<c>response_format</c>, the <c>grammar</c> extension,
/// <c>logit_bias</c>) into a GBNF grammar and token biases, or the 400 to answer with.
/// </summary>
internal static class OutputConstraints
{
    /// <summary>OpenAI's bound on logit_bias entries.</summary>
    public const int MaxLogitBiasEntries = 300;

    /// <summary>The grammar <c>response_format</c> or <c>grammar</c> asks for (null: free text), checked to parse.</summary>
    public static ApiError? ReadGrammar(LlamaModel model, CompletionRequestBody body, out string? grammar)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(body);
        var error = ReadResponseFormat(body.ResponseFormat, out grammar);
        if (error is not null)
        {
            return error;
        }

        var param = "response_format";
        switch (body.Grammar.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                break;
            case JsonValueKind.String when body.Grammar.GetString()!.Length > 0:
                if (grammar is not null)
                {
                    return ApiError.InvalidRequest("grammar and a JSON response_format cannot both be set.", "grammar");
                }

                grammar = body.Grammar.GetString()!;
                param = "grammar";
                break;
            default:
                return ApiError.InvalidRequest("grammar must be a non-empty GBNF string.", "grammar");
        }

        return grammar is null ? null : CheckParses(model, grammar, param);
    }

    /// <summary>Whether llama.cpp parses <paramref name="grammar"/>: a 400 naming <paramref name="param"/> if not.</summary>
    public static ApiError? CheckParses(LlamaModel model, string grammar, string param)
    {
        try
        {
            using var parsed = LlamaGrammar.Create(model, grammar);
            return null;
        }
        catch (LlamaException)
        {
            return ApiError.InvalidRequest(
                param == "grammar" ? "grammar does not parse as a GBNF grammar with a root rule." : $"The {param} could not be turned into a grammar.",
                param);
        }
    }

    private static ApiError? ReadResponseFormat(JsonElement format, out string? grammar)
    {
        grammar = null;
        if (format.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return null;
        }

        if (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return ApiError.InvalidRequest("response_format must be an object with a type: text, json_object or json_schema.", "response_format");
        }

        var allowed = type.GetString() == "json_schema" ? new[] { "type", "json_schema" } : ["type"];
        var extra = format.EnumerateObject().FirstOrDefault(p => !allowed.Contains(p.Name));
        if (extra.Value.ValueKind != JsonValueKind.Undefined)
        {
            return ApiError.InvalidRequest($"Unknown parameter: 'response_format.{extra.Name}'.", $"response_format.{extra.Name}", "unknown_parameter");
        }

        switch (type.GetString())
        {
            case "text":
                return null;
            case "json_object":
                grammar = JsonSchemaGrammar.AnyObject;
                return null;
            case "json_schema":
                return ReadJsonSchema(format, out grammar);
            default:
                return ApiError.InvalidRequest($"response_format.type must be text, json_object or json_schema, not '{type.GetString()}'.", "response_format.type");
        }
    }

    private static ApiError? ReadJsonSchema(JsonElement format, out string? grammar)
    {
        grammar = null;
        const string param = "response_format.json_schema";
        if (!format.TryGetProperty("json_schema", out var spec) || spec.ValueKind != JsonValueKind.Object)
        {
            return ApiError.InvalidRequest($"{param} must be an object with a name and a schema.", param, "missing_required_parameter");
        }

        foreach (var property in spec.EnumerateObject())
        {
            var error = property.Name switch
            {
                "name" => IsName(property.Value) ? null : ApiError.InvalidRequest($"{param}.name must be 1 to 64 letters, digits, underscores or dashes.", $"{param}.name"),
                "description" => property.Value.ValueKind == JsonValueKind.String ? null : ApiError.InvalidRequest($"{param}.description must be a string.", $"{param}.description"),
                "strict" => property.Value.ValueKind is JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null ? null : ApiError.InvalidRequest($"{param}.strict must be a boolean.", $"{param}.strict"),
                "schema" => null,
                _ => ApiError.InvalidRequest($"Unknown parameter: '{param}.{property.Name}'.", $"{param}.{property.Name}", "unknown_parameter"),
            };
            if (error is not null)
            {
                return error;
            }
        }

        if (!spec.TryGetProperty("name", out _))
        {
            return ApiError.InvalidRequest($"{param}.name is required.", $"{param}.name", "missing_required_parameter");
        }

        if (!spec.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
        {
            return ApiError.InvalidRequest($"{param}.schema must be a JSON Schema object.", $"{param}.schema", spec.TryGetProperty("schema", out _) ? null : "missing_required_parameter");
        }

        grammar = JsonSchemaGrammar.TryConvert(schema, $"{param}.schema", out var schemaError);
        return schemaError is null ? null : ApiError.InvalidRequest(schemaError.Message, schemaError.Path, "unsupported_schema");
    }

    /// <summary>OpenAI's rule for schema and function names.</summary>
    public static bool IsName(JsonElement name) =>
        name.ValueKind == JsonValueKind.String && name.GetString() is { Length: > 0 and <= 64 } text
        && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    /// <summary>logit_bias: token id strings of this model to biases from -100 to 100.</summary>
    public static ApiError? ReadLogitBias(JsonElement bias, int vocabSize, out IReadOnlyDictionary<LlamaToken, float> biases)
    {
        var result = new Dictionary<LlamaToken, float>();
        biases = result;
        if (bias.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return null;
        }

        if (bias.ValueKind != JsonValueKind.Object)
        {
            return ApiError.InvalidRequest("logit_bias must be an object mapping token ids to biases from -100 to 100.", "logit_bias");
        }

        foreach (var entry in bias.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id >= vocabSize)
            {
                return ApiError.InvalidRequest($"logit_bias: '{entry.Name}' is not a token id of this model (0 to {vocabSize - 1}).", "logit_bias");
            }

            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetDouble(out var value) || value is < -100 or > 100)
            {
                return ApiError.InvalidRequest($"logit_bias['{entry.Name}'] must be a number from -100 to 100.", "logit_bias");
            }

            result[new LlamaToken(id)] = (float)value;
        }

        return result.Count > MaxLogitBiasEntries
            ? ApiError.InvalidRequest($"logit_bias may hold at most {MaxLogitBiasEntries} tokens, not {result.Count}.", "logit_bias")
            : null;
    }
}
