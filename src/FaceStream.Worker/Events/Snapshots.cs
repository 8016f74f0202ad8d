using FaceStream.Worker.Configuration;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FaceStream.Worker.Events;

/// <summary>Stores the JPEGs of an event's best view and returns the reference the event carries.</summary>
public interface ISnapshotStore
{
    /// <summary>Returns the reference (file:// path or redis: key) of the face snapshot, else of the frame; null when nothing was stored.</summary>
    Task<string?> SaveAsync(Guid eventId, string cameraId, DateTimeOffset at, byte[]? face, byte[]? frame);
}

/// <summary>Snapshot files under Directory/yyyy-MM-dd/CAMERA/EVENT-face.jpg, deleted after RetentionHours.</summary>
public sealed class FileSnapshotStore : ISnapshotStore, IDisposable
{
    private static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(10);

    private readonly string _root;
    private readonly TimeSpan _retention;
    private readonly ILogger _log;
    private readonly Timer? _sweeper;

    public FileSnapshotStore(SnapshotOptions options, ILogger log)
    {
        _root = Path.GetFullPath(options.Directory);
        _retention = TimeSpan.FromHours(options.RetentionHours);
        _log = log;
        Directory.CreateDirectory(_root);
        if (_retention > TimeSpan.Zero)
        {
            _sweeper = new Timer(_ => Sweep(), null, TimeSpan.Zero, SweepEvery);
        }
    }

    public async Task<string?> SaveAsync(Guid eventId, string cameraId, DateTimeOffset at, byte[]? face, byte[]? frame)
    {
        var dir = Path.Combine(_root, at.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), Safe(cameraId));
        Directory.CreateDirectory(dir);
        string? reference = null;
        foreach (var (bytes, suffix) in new[] { (face, "face"), (frame, "frame") })
        {
            if (bytes is null)
            {
                continue;
            }

            var path = Path.Combine(dir, $"{eventId:N}-{suffix}.jpg");
            await File.WriteAllBytesAsync(path, bytes);
            reference ??= new Uri(path).AbsoluteUri;
        }

        return reference;
    }

    /// <summary>Deletes snapshot files past retention and the day folders they leave empty.</summary>
    public int Sweep()
    {
        int deleted = 0;
        var cutoff = DateTime.UtcNow - _retention;
        try
        {
            foreach (var file in Directory.EnumerateFiles(_root, "*.jpg", SearchOption.AllDirectories))
            {
                if (File.GetLastWriteTimeUtc(file) < cutoff)
                {
                    File.Delete(file);
                    deleted++;
                }
            }

            foreach (var dir in Directory.EnumerateDirectories(_root, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length))
            {
                if (!Directory.EnumerateFileSystemEntries(dir).Any())
                {
                    Directory.Delete(dir);
                }
            }
        }
        catch (IOException e)
        {
            _log.LogWarning("snapshot retention sweep of {Root} incomplete: {Reason}", _root, e.Message);
        }

        if (deleted > 0)
        {
            _log.LogInformation("snapshots: {Deleted} files older than {Hours} h deleted from {Root}", deleted, _retention.TotalHours, _root);
        }

        return deleted;
    }

    public void Dispose() => _sweeper?.Dispose();

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}

/// <summary>Snapshots as Redis strings that expire by themselves (key facestream:snap:EVENT:face).</summary>
public sealed class RedisSnapshotStore(IConnectionMultiplexer redis, TimeSpan ttl) : ISnapshotStore
{
    public async Task<string?> SaveAsync(Guid eventId, string cameraId, DateTimeOffset at, byte[]? face, byte[]? frame)
    {
        string? reference = null;
        foreach (var (bytes, suffix) in new[] { (face, "face"), (frame, "frame") })
        {
            if (bytes is null)
            {
                continue;
            }

            var key = $"facestream:snap:{eventId:N}:{suffix}";
            await redis.GetDatabase().StringSetAsync(key, bytes, ttl);
            reference ??= $"redis:{key}";
        }

        return reference;
    }
}
