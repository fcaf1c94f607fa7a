using System.Text.Json;

namespace ServeGate.Core.OpenAi;

/// <summary>
/// Finds a JSON string that is valid JSON but not a .NET string: an escaped lone surrogate (<c>"\ud800"</c>) parses,
/// and reading it as a string throws, so a request body is checked once before anything reads its strings.
/// </summary>
public static class JsonStringCheck
{
    /// <summary>
    /// The name of the property whose value (or the name of the property itself) holds the first undecodable string,
    /// <c>""</c> at the top level; null when every string decodes, or when the text is not JSON (its parser says so).
    /// </summary>
    public static string? FindUndecodable(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        var property = string.Empty;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.PropertyName or JsonTokenType.String))
                {
                    continue;
                }

                string? text;
                try
                {
                    text = reader.ValueIsEscaped || reader.TokenType == JsonTokenType.PropertyName ? reader.GetString() : null;
                }
                catch (InvalidOperationException)
                {
                    return property;
                }

                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    property = text ?? string.Empty;
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return null;
    }
}
