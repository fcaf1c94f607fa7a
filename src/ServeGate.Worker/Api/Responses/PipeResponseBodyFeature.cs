using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace ServeGate.Worker.Api.Responses;

/// <summary>A response body that is a pipe: what the chat handler writes, the Responses translation reads as it comes.</summary>
internal sealed class PipeResponseBodyFeature(PipeWriter writer) : IHttpResponseBodyFeature
{
    private Stream? _stream;

    public Stream Stream => _stream ??= writer.AsStream(leaveOpen: true);

    public PipeWriter Writer => writer;

    public void DisableBuffering()
    {
    }

    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The chat handler sends no files.");

    public async Task CompleteAsync() => await writer.FlushAsync().ConfigureAwait(false);
}
