using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace ServeGate.Tests.Common;

/// <summary>
/// A real PostgreSQL server (Debian's <c>postgresql</c>, installed by ./test.sh) in a temp folder, on a free loopback
/// port, trust authentication, fsync off; stopped and removed when disposed. PostgreSQL refuses to run as root, so
/// under root (tests and CI) it runs as the <c>postgres</c> system user the package creates.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string User = "postgres";
    private string? _bin;
    private string? _directory;
    private bool _started;

    public int Port { get; private set; }

    private string DataDirectory => Path.Combine(_directory!, "data");

    /// <summary>A connection string for <paramref name="database"/> on this server (Npgsql syntax).</summary>
    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username={User};Database={database};Pooling=true";

    public async Task InitializeAsync()
    {
        _bin = FindBinaries();
        Port = TestEnvironment.FreePort();
        _directory = Directory.CreateTempSubdirectory("servegate-pg-").FullName;
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", User, _directory);
        }

        await RunServerToolAsync("initdb", "-D", DataDirectory, "-U", User, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions");
        await RunServerToolAsync("pg_ctl", "-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60", "-o",
            $"-p {Port.ToString(CultureInfo.InvariantCulture)} -c listen_addresses=127.0.0.1 -k {_directory} -c fsync=off -c synchronous_commit=off -c full_page_writes=off", "start");
        _started = true;
    }

    /// <summary>Creates an empty database of a unique name and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"servegate_{Guid.NewGuid():N}";
        await RunAsync(Path.Combine(_bin!, "createdb"), "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", User, name);
        return ConnectionString(name);
    }

    private static string FindBinaries()
    {
        var root = "/usr/lib/postgresql";
        var bin = Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException("No PostgreSQL server under /usr/lib/postgresql/*/bin (./test.sh installs Debian's postgresql).");
    }

    private Task RunServerToolAsync(string tool, params string[] args) =>
        Environment.IsPrivilegedProcess
            ? RunAsync("runuser", ["-u", User, "--", Path.Combine(_bin!, tool), .. args])
            : RunAsync(Path.Combine(_bin!, tool), args);

    private static async Task RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await error}{await output}");
        }
    }

    public async Task DisposeAsync()
    {
        if (_started)
        {
            await RunServerToolAsync("pg_ctl", "-D", DataDirectory, "-m", "immediate", "-w", "stop");
        }

        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
