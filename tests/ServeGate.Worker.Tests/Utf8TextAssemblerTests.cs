using System.Text;
using ServeGate.Worker.Inference;

namespace ServeGate.Worker.Tests;

public sealed class Utf8TextAssemblerTests
{
    [Fact]
    public void Append_MultiByteCharacterSplitAcrossPieces_ReleasedWhole()
    {
        var bytes = Encoding.UTF8.GetBytes("é🎉");
        var assembler = new Utf8TextAssembler();
        var outputs = bytes.Select(b => assembler.Append([b])).ToList();

        Assert.Equal(["", "é", "", "", "", "🎉"], outputs);
    }

    [Fact]
    public void Flush_IncompleteCharacter_BecomesReplacementCharacter()
    {
        var assembler = new Utf8TextAssembler();

        Assert.Equal("a", assembler.Append([(byte)'a', 0xF0, 0x9F]));
        Assert.Equal("\uFFFD", assembler.Flush());
    }

    [Fact]
    public void Append_LongPiece_GrowsBuffer()
    {
        var text = new string('x', 1000) + "東京";
        var assembler = new Utf8TextAssembler();

        Assert.Equal(text, assembler.Append(Encoding.UTF8.GetBytes(text)));
    }
}
