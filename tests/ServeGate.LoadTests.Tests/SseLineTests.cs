using ServeGate.LoadTests.Client;

namespace ServeGate.LoadTests.Tests;

public sealed class SseLineTests
{
    [Theory]
    [InlineData("data: {\"a\":1}", "Data", "{\"a\":1}")]
    [InlineData("data:{\"a\":1}", "Data", "{\"a\":1}")]
    [InlineData("data: [DONE]", "Done", "")]
    [InlineData("data:[DONE]  ", "Done", "")]
    [InlineData("", "Other", "")]
    [InlineData(": keep-alive", "Other", "")]
    [InlineData("event: message", "Other", "")]
    [InlineData("data: ", "Other", "")]
    public void Parse_Line_ClassifiesAndExtractsPayload(string line, string kind, string data)
    {
        Assert.Equal(kind, SseLine.Parse(line, out var payload).ToString());
        Assert.Equal(data, payload);
    }
}
