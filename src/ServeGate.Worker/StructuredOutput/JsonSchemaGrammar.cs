using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ServeGate.Worker.StructuredOutput;

/// <summary>
/// Converts a JSON Schema to a GBNF grammar whose every complete sentence is compact JSON (at most one space between
/// tokens) that validates against the schema. Keywords it cannot enforce are refused with their path, never ignored;
/// the supported subset is listed in docs/architecture.md ("Structured output").
/// </summary>
internal sealed class JsonSchemaGrammar
{
    /// <summary>Keywords that only describe (never constrain) and are skipped.</summary>
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly",
    };

    private static readonly HashSet<string> Supported = new(StringComparer.Ordinal)
    {
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const",
        "minLength", "maxLength", "$ref", "$defs", "definitions", "anyOf", "oneOf",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    };

    /// <summary>
    /// The bounds a numeric rule can keep exactly: none, 0 or 1 below, and at least 10^15 in magnitude (what zod writes
    /// for every <c>.int()</c>: ±(2^53 - 1)), met by at most 15 integer digits and no exponent.
    /// </summary>
    private const double WideBound = 1e15;

    private static readonly string[] JsonTypes = ["object", "array", "string", "number", "integer", "boolean", "null"];

    /// <summary>The rules every grammar may use: bounded whitespace, strings, numbers and any JSON value.</summary>
    private static readonly (string Name, string Body)[] Primitives =
    [
        ("ws", "\" \"?"),
        // Unicode scalar values only: llama.cpp's decoder also yields surrogates and values past U+10FFFF from invalid
        // bytes (byte-fallback tokens), which would reach the client as U+FFFD and break maxLength.
        ("char", "[ !#-\\[\\]-~\\u0080-\\uD7FF\\uE000-\\U0010FFFF] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4})"),
        ("string", "\"\\\"\" char* \"\\\"\""),
        ("integer", "\"-\"? (\"0\" | [1-9] [0-9]{0,15})"),
        ("number", "integer (\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?"),
        ("boolean", "\"true\" | \"false\""),
        ("null", "\"null\""),
        ("value", "object | array | string | number | boolean | null"),
        ("object", "\"{\" ws (string ws \":\" ws value (ws \",\" ws string ws \":\" ws value)*)? ws \"}\""),
        ("array", "\"[\" ws (value (ws \",\" ws value)*)? ws \"]\""),
    ];

    private readonly JsonElement _root;
    private readonly string _rootPath;
    private readonly Dictionary<string, string> _rules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _ruleByBody = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _refRules = new(StringComparer.Ordinal);
    private readonly string _namePrefix;

    private JsonSchemaGrammar(JsonElement root, string rootPath, string namePrefix)
    {
        _root = root;
        _rootPath = rootPath;
        _namePrefix = namePrefix;
    }

    /// <summary>The grammar for any JSON object (<c>response_format: json_object</c>).</summary>
    public static string AnyObject => Assemble("object", []);

    /// <summary>
    /// The GBNF grammar (root rule <c>root</c>) for <paramref name="schema"/>, or null and the error with the JSON path
    /// (under <paramref name="path"/>, e.g. <c>response_format.json_schema.schema</c>) of the first unsupported keyword.
    /// </summary>
    public static string? TryConvert(JsonElement schema, string path, out SchemaError? error)
    {
        var converter = new JsonSchemaGrammar(schema, path, "s");
        try
        {
            var root = converter.Visit(schema, path, "root");
            error = null;
            return converter.Build(root);
        }
        catch (SchemaException ex)
        {
            error = new SchemaError(ex.Message, ex.Path);
            return null;
        }
    }

    /// <summary>
    /// The rule expression for <paramref name="schema"/> as a named rule, so a caller can embed it in a larger grammar
    /// (tool calls): returns the rules to append and the name of the schema's rule.
    /// </summary>
    public static string? TryConvertRules(JsonElement schema, string path, string prefix, out string rootRule, out SchemaError? error)
    {
        var converter = new JsonSchemaGrammar(schema, path, prefix);
        rootRule = string.Empty;
        try
        {
            var body = converter.Visit(schema, path, prefix);
            rootRule = converter.Name(prefix, body, forceNew: false);
            error = null;
            var text = new StringBuilder();
            foreach (var (name, rule) in converter._rules)
            {
                text.Append(name).Append(" ::= ").Append(rule).Append('\n');
            }

            return text.ToString();
        }
        catch (SchemaException ex)
        {
            error = new SchemaError(ex.Message, ex.Path);
            return null;
        }
    }

    /// <summary>The primitive rules (<c>ws</c>, <c>string</c>, <c>value</c>, ...) a grammar built from <see cref="TryConvertRules"/> needs.</summary>
    public static string PrimitiveRules { get; } = string.Concat(Primitives.Select(p => $"{p.Name} ::= {p.Body}\n"));

    private static string Assemble(string root, IEnumerable<KeyValuePair<string, string>> rules)
    {
        var text = new StringBuilder();
        text.Append("root ::= ").Append(root).Append('\n');
        foreach (var (name, body) in rules)
        {
            text.Append(name).Append(" ::= ").Append(body).Append('\n');
        }

        text.Append(PrimitiveRules);
        return text.ToString();
    }

    private string Build(string root) => Assemble(root, _rules);

    /// <summary>Names <paramref name="body"/> as a rule (reusing an identical one) and returns the name.</summary>
    private string Name(string hint, string body, bool forceNew)
    {
        if (!forceNew && _ruleByBody.TryGetValue(body, out var existing))
        {
            return existing;
        }

        var name = UniqueName(hint);
        _rules[name] = body;
        _ruleByBody.TryAdd(body, name);
        return name;
    }

    private string UniqueName(string hint)
    {
        var clean = new StringBuilder();
        foreach (var c in hint)
        {
            clean.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        }

        var baseName = _namePrefix + "-" + clean.ToString().Trim('-');
        var name = baseName;
        for (var i = 2; _rules.ContainsKey(name) || Primitives.Any(p => p.Name == name); i++)
        {
            name = baseName + "-" + i.ToString(CultureInfo.InvariantCulture);
        }

        return name;
    }

    /// <summary>A rule expression (not yet named) matching exactly the JSON texts valid against <paramref name="schema"/>.</summary>
    private string Visit(JsonElement schema, string path, string hint)
    {
        if (schema.ValueKind == JsonValueKind.True)
        {
            return "value";
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new SchemaException(path, $"{path} must be a JSON Schema object.");
        }

        foreach (var property in schema.EnumerateObject())
        {
            if (!Supported.Contains(property.Name) && !Annotations.Contains(property.Name))
            {
                throw new SchemaException($"{path}.{property.Name}", $"The JSON Schema keyword '{property.Name}' at {path}.{property.Name} is not supported for structured output; the supported keywords are listed in the ServeGate docs.");
            }
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            if (schema.EnumerateObject().Any(p => Supported.Contains(p.Name) && p.Name is not "$ref" and not "$defs" and not "definitions"))
            {
                throw new SchemaException($"{path}.$ref", $"{path}.$ref: keywords beside $ref are not supported.");
            }

            return Reference(reference, $"{path}.$ref");
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            return Literal(Compact(constant));
        }

        if (schema.TryGetProperty("enum", out var values))
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
            {
                throw new SchemaException($"{path}.enum", $"{path}.enum must be a non-empty array.");
            }

            return Group(values.EnumerateArray().Select(v => Literal(Compact(v))));
        }

        var alternatives = schema.TryGetProperty("anyOf", out var anyOf) ? ("anyOf", anyOf)
            : schema.TryGetProperty("oneOf", out var oneOf) ? ("oneOf", oneOf)
            : default;
        if (alternatives.Item1 is { } keyword)
        {
            if (alternatives.Item2.ValueKind != JsonValueKind.Array || alternatives.Item2.GetArrayLength() == 0)
            {
                throw new SchemaException($"{path}.{keyword}", $"{path}.{keyword} must be a non-empty array of schemas.");
            }

            if (schema.TryGetProperty("type", out _) || (schema.TryGetProperty("anyOf", out _) && schema.TryGetProperty("oneOf", out _)))
            {
                throw new SchemaException($"{path}.{keyword}", $"{path}.{keyword}: combining {keyword} with type or another combinator is not supported.");
            }

            return Group(alternatives.Item2.EnumerateArray().Select((s, i) => Rule($"{hint}-{i}", Visit(s, $"{path}.{keyword}[{i}]", $"{hint}-{i}"))));
        }

        var types = Types(schema, path);
        return Group(types.Select(type => type switch
        {
            "object" => ObjectRule(schema, path, hint),
            "array" => ArrayRule(schema, path, hint),
            "string" => StringRule(schema, path),
            "integer" or "number" => NumberRule(schema, path, type),
            _ => type,
        }));
    }

    private static List<string> Types(JsonElement schema, string path)
    {
        if (schema.TryGetProperty("type", out var type))
        {
            var list = type.ValueKind switch
            {
                JsonValueKind.String => [type.GetString()!],
                JsonValueKind.Array when type.GetArrayLength() > 0 && type.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String) =>
                    type.EnumerateArray().Select(t => t.GetString()!).Distinct().ToList(),
                _ => throw new SchemaException($"{path}.type", $"{path}.type must be a type name or a non-empty array of type names."),
            };
            var unknown = list.FirstOrDefault(t => !JsonTypes.Contains(t));
            return unknown is null
                ? list
                : throw new SchemaException($"{path}.type", $"{path}.type: '{unknown}' is not a JSON Schema type.");
        }

        // No type: infer it from the keywords present, else any value.
        if (schema.TryGetProperty("properties", out _) || schema.TryGetProperty("required", out _) || schema.TryGetProperty("additionalProperties", out _))
        {
            return ["object"];
        }

        if (schema.TryGetProperty("items", out _) || schema.TryGetProperty("minItems", out _) || schema.TryGetProperty("maxItems", out _))
        {
            return ["array"];
        }

        if (schema.TryGetProperty("minLength", out _) || schema.TryGetProperty("maxLength", out _))
        {
            return ["string"];
        }

        if (Bound(schema, "minimum", path) is not null || Bound(schema, "maximum", path) is not null
            || Bound(schema, "exclusiveMinimum", path) is not null || Bound(schema, "exclusiveMaximum", path) is not null)
        {
            return ["number"];
        }

        return ["object", "array", "string", "number", "boolean", "null"];
    }

    private string StringRule(JsonElement schema, string path)
    {
        var min = Count(schema, "minLength", path) ?? 0;
        var max = Count(schema, "maxLength", path);
        if (max < min)
        {
            throw new SchemaException($"{path}.maxLength", $"{path}.maxLength is less than minLength.");
        }

        return (min, max) switch
        {
            (0, null) => "string",
            (0, 0) => "\"\\\"\\\"\"",
            _ => $"\"\\\"\" char{Repeat(min, max)} \"\\\"\"",
        };
    }

    /// <summary>
    /// An integer or number under minimum/maximum/exclusive*: exact for the bounds in <see cref="WideBound"/>'s summary,
    /// refused otherwise (a range like 1..10 would need digit-by-digit rules).
    /// </summary>
    private static string NumberRule(JsonElement schema, string path, string type)
    {
        var integer = type == "integer";
        double? lower = null, upper = null;
        string? lowerKeyword = null, upperKeyword = null;
        if (Bound(schema, "minimum", path) is { } minimum)
        {
            (lower, lowerKeyword) = (integer ? Math.Ceiling(minimum) : minimum, "minimum");
        }

        if (Bound(schema, "exclusiveMinimum", path) is { } exclusiveMinimum)
        {
            // Only integers turn an exclusive lower bound into an inclusive one (> 0 is >= 1).
            var inclusive = integer ? Math.Floor(exclusiveMinimum) + 1 : double.NaN;
            (lower, lowerKeyword) = lower is null || !(inclusive <= lower) ? (inclusive, "exclusiveMinimum") : (lower, lowerKeyword);
        }

        if (Bound(schema, "maximum", path) is { } maximum)
        {
            (upper, upperKeyword) = (maximum, "maximum");
        }

        if (Bound(schema, "exclusiveMaximum", path) is { } exclusiveMaximum && (upper is null || exclusiveMaximum <= upper))
        {
            (upper, upperKeyword) = (exclusiveMaximum, "exclusiveMaximum");
        }

        if (lower is null && upper is null)
        {
            return type;
        }

        var sign = lower switch
        {
            null or <= -WideBound => "\"-\"? ",
            0 or 1 => "",
            _ => throw UnsupportedBound(path, lowerKeyword!),
        };
        if (upper is not (null or >= WideBound))
        {
            throw UnsupportedBound(path, upperKeyword!);
        }

        var digits = lower is 1 ? "[1-9] [0-9]{0,14}" : "(\"0\" | [1-9] [0-9]{0,14})";
        if (integer)
        {
            return $"({sign}{digits})";
        }

        // A non-negative number with no upper bound may keep its exponent; any bound of magnitude 10^15 may not.
        var exponent = upper is null && lower is 0 ? " ([eE] [-+]? [0-9]{1,3})?" : string.Empty;
        return $"({sign}{digits} (\".\" [0-9]{{1,16}})?{exponent})";
    }

    private static double? Bound(JsonElement schema, string keyword, string path)
    {
        if (!schema.TryGetProperty(keyword, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : throw new SchemaException($"{path}.{keyword}", $"{path}.{keyword} must be a number.");
    }

    private static SchemaException UnsupportedBound(string path, string keyword) => new(
        $"{path}.{keyword}",
        $"{path}.{keyword}: only 0 or 1 below and bounds of magnitude at least 10^15 (zod's .int()) can be enforced for structured output.");

    private string ArrayRule(JsonElement schema, string path, string hint)
    {
        var item = "value";
        if (schema.TryGetProperty("items", out var items))
        {
            if (items.ValueKind == JsonValueKind.Array)
            {
                throw new SchemaException($"{path}.items", $"{path}.items: tuple arrays (an array of schemas) are not supported.");
            }

            item = items.ValueKind == JsonValueKind.False ? string.Empty : Rule($"{hint}-item", Visit(items, $"{path}.items", $"{hint}-item"));
        }

        var min = Count(schema, "minItems", path) ?? 0;
        var max = Count(schema, "maxItems", path);
        if (max < min)
        {
            throw new SchemaException($"{path}.maxItems", $"{path}.maxItems is less than minItems.");
        }

        if (item.Length == 0 || max == 0)
        {
            return min > 0
                ? throw new SchemaException($"{path}.minItems", $"{path}: no array satisfies minItems with items false.")
                : "\"[\" ws \"]\"";
        }

        var rest = max == 1 ? string.Empty : $" (ws \",\" ws {item}){Repeat(Math.Max(0, min - 1), max - 1)}";
        var body = min == 0 ? $"({item}{rest})?" : item + rest;
        return $"\"[\" ws {body} ws \"]\"";
    }

    private string ObjectRule(JsonElement schema, string path, string hint)
    {
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (schema.TryGetProperty("required", out var requiredList))
        {
            if (requiredList.ValueKind != JsonValueKind.Array || requiredList.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String))
            {
                throw new SchemaException($"{path}.required", $"{path}.required must be an array of property names.");
            }

            required.UnionWith(requiredList.EnumerateArray().Select(r => r.GetString()!));
        }

        // Declared properties in schema order; required names not declared take any value.
        var properties = new List<(string Name, string Value, bool Required)>();
        if (schema.TryGetProperty("properties", out var declared))
        {
            if (declared.ValueKind != JsonValueKind.Object)
            {
                throw new SchemaException($"{path}.properties", $"{path}.properties must be an object.");
            }

            foreach (var property in declared.EnumerateObject())
            {
                var propertyPath = $"{path}.properties.{property.Name}";
                var value = Rule($"{hint}-{property.Name}", Visit(property.Value, propertyPath, $"{hint}-{property.Name}"));
                properties.Add((property.Name, value, required.Contains(property.Name)));
            }
        }

        foreach (var name in required.Where(r => properties.All(p => p.Name != r)))
        {
            properties.Add((name, "value", true));
        }

        // With no declared properties the object is a map: any keys, with additionalProperties' schema for values.
        // With declared properties only they are generated, which every additionalProperties setting allows.
        if (properties.Count == 0)
        {
            if (!schema.TryGetProperty("additionalProperties", out var additional) || additional.ValueKind == JsonValueKind.True)
            {
                return "object";
            }

            if (additional.ValueKind == JsonValueKind.False)
            {
                return "\"{\" ws \"}\"";
            }

            var value = Rule($"{hint}-value", Visit(additional, $"{path}.additionalProperties", $"{hint}-value"));
            var pair = $"string ws \":\" ws {value}";
            return $"\"{{\" ws ({pair} (ws \",\" ws {pair})*)? ws \"}}\"";
        }

        if (schema.TryGetProperty("additionalProperties", out var extra) && extra.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Visit(extra, $"{path}.additionalProperties", $"{hint}-extra");
        }

        // after[i]: properties i.. once one was written (each preceded by a comma); first[i]: none written yet.
        var after = new string[properties.Count + 1];
        var first = new string[properties.Count + 1];
        after[properties.Count] = string.Empty;
        first[properties.Count] = string.Empty;
        for (var i = properties.Count - 1; i >= 0; i--)
        {
            var (name, value, isRequired) = properties[i];
            var pair = $"{Literal(CompactString(name))} ws \":\" ws {value}";
            var tail = after[i + 1].Length == 0 ? string.Empty : " " + after[i + 1];
            var afterBody = isRequired ? $"ws \",\" ws {pair}{tail}" : $"(ws \",\" ws {pair})?{tail}";
            after[i] = Rule($"{hint}-after-{i}", afterBody);
            var firstBody = isRequired || first[i + 1].Length == 0
                ? (isRequired ? $"{pair}{tail}" : $"({pair}{tail})?")
                : $"{pair}{tail} | {first[i + 1]}";
            first[i] = Rule($"{hint}-first-{i}", firstBody);
        }

        return $"\"{{\" ws {first[0]} ws \"}}\"";
    }

    /// <summary>A local reference (<c>#/$defs/X</c>, <c>#/definitions/X</c>, any local JSON pointer) as a named rule, so recursion works.</summary>
    private string Reference(JsonElement reference, string path)
    {
        var target = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : string.Empty;
        if (!target.StartsWith('#'))
        {
            throw new SchemaException(path, $"{path}: only local references (starting with '#') are supported, not '{target}'.");
        }

        if (_refRules.TryGetValue(target, out var known))
        {
            return known;
        }

        var node = _root;
        var nodePath = _rootPath;
        foreach (var raw in target.TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(segment, out node))
            {
                throw new SchemaException(path, $"{path}: the reference '{target}' does not resolve within the schema.");
            }

            nodePath += "." + segment;
        }

        var name = UniqueName("ref-" + target.TrimStart('#', '/'));
        _refRules[target] = name;
        _rules[name] = string.Empty;
        _rules[name] = Visit(node, nodePath, name);
        return name;
    }

    private string Rule(string hint, string body) =>
        IsSimple(body) ? body : Name(hint, body, forceNew: false);

    private static bool IsSimple(string body) => body.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static string Group(IEnumerable<string> alternatives)
    {
        var list = alternatives.Distinct().ToList();
        return list.Count == 1 ? list[0] : "(" + string.Join(" | ", list) + ")";
    }

    private static string Repeat(int min, int? max) => max switch
    {
        null when min == 0 => "*",
        null when min == 1 => "+",
        null => $"{{{min},}}",
        _ when min == max => $"{{{min}}}",
        _ => $"{{{min},{max}}}",
    };

    private static int? Count(JsonElement schema, string keyword, string path)
    {
        if (!schema.TryGetProperty(keyword, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= 0
            ? n
            : throw new SchemaException($"{path}.{keyword}", $"{path}.{keyword} must be a non-negative integer.");
    }

    /// <summary>A JSON value in the compact form the grammar generates.</summary>
    internal static string Compact(JsonElement value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            value.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A string as a compact JSON string literal (non-ASCII kept as UTF-8).</summary>
    internal static string CompactString(string value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStringValue(value);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A GBNF string literal matching exactly <paramref name="text"/>.</summary>
    internal static string Literal(string text)
    {
        var literal = new StringBuilder("\"");
        foreach (var c in text)
        {
            switch (c)
            {
                case '"':
                    literal.Append("\\\"");
                    break;
                case '\\':
                    literal.Append("\\\\");
                    break;
                case '\n':
                    literal.Append("\\n");
                    break;
                case '\r':
                    literal.Append("\\r");
                    break;
                case '\t':
                    literal.Append("\\t");
                    break;
                default:
                    literal.Append(c);
                    break;
            }
        }

        return literal.Append('"').ToString();
    }

    private sealed class SchemaException(string path, string message) : Exception(message)
    {
        public string Path { get; } = path;
    }
}

/// <summary>Why a schema was refused, and the request path of the offending keyword (the error's <c>param</c>).</summary>
internal sealed record SchemaError(string Message, string Path);
