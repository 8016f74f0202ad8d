using System.Collections;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace FaceStream.Worker.Configuration;

/// <summary>
/// Keys the option classes do not have, each named with its full path and the keys allowed there
/// (<c>Cameras:0:Urll is not a setting (allowed: Id, Url, …)</c>), and JSON syntax errors named by file, line and column.
/// </summary>
public static class ConfigKeys
{
    /// <summary>Every key under <paramref name="config"/> that <paramref name="sections"/> (section path → options type) do not know.</summary>
    public static IEnumerable<string> Unknown(IConfiguration config, IReadOnlyDictionary<string, Type> sections, IEnumerable<string> alsoAllowed)
    {
        var roots = sections.Keys.Select(k => k.Split(':')[0]).Concat(alsoAllowed).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        foreach (var child in config.GetChildren())
        {
            if (!roots.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                yield return $"'{child.Key}' is not a section (allowed: {string.Join(", ", roots)})";
            }
        }

        // Sections nested one level (Detector:Mtcnn): their parents hold nothing else.
        foreach (var parent in sections.Keys.Where(k => k.Contains(':', StringComparison.Ordinal)).GroupBy(k => k.Split(':')[0]))
        {
            var allowed = parent.Select(k => k.Split(':')[1]).ToList();
            foreach (var child in config.GetSection(parent.Key).GetChildren().Where(c => !allowed.Contains(c.Key, StringComparer.OrdinalIgnoreCase)))
            {
                yield return $"{child.Path} is not a section (allowed: {string.Join(", ", allowed.Select(a => $"{parent.Key}:{a}"))})";
            }
        }

        foreach (var (path, type) in sections)
        {
            foreach (var problem in UnknownIn(config.GetSection(path), type))
            {
                yield return problem;
            }
        }
    }

    /// <summary>The JSON syntax error of a config file (empty counts), with its line and column; null when it parses.</summary>
    public static string? SyntaxError(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (System.Text.Encoding.UTF8.GetString(bytes).Trim().Trim('\uFEFF').Trim().Length == 0)
            {
                return $"{path} is empty";
            }

            // As lenient as the configuration's own JSON reader: comments and trailing commas are fine.
            using var _ = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return null;
        }
        catch (JsonException e)
        {
            var reason = e.Message.Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
            return $"{path}: JSON syntax error at line {e.LineNumber + 1}, column {e.BytePositionInLine + 1}: {reason}";
        }
        catch (IOException e)
        {
            return $"{path}: {e.Message}";
        }
    }

    private static IEnumerable<string> UnknownIn(IConfigurationSection section, Type type)
    {
        if (type == typeof(string) || !type.IsClass)
        {
            yield break;
        }

        if (typeof(IDictionary).IsAssignableFrom(type))
        {
            yield break;
        }

        if (type.IsGenericType && typeof(IList).IsAssignableFrom(type))
        {
            var item = type.GetGenericArguments()[0];
            foreach (var element in section.GetChildren())
            {
                foreach (var problem in UnknownIn(element, item))
                {
                    yield return problem;
                }
            }

            yield break;
        }

        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite || p.PropertyType.IsClass && p.PropertyType != typeof(string))
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var p))
            {
                yield return $"{child.Path} is not a setting (allowed: {string.Join(", ", properties.Keys)})";
            }
            else if (p.PropertyType.Namespace?.StartsWith("FaceStream", StringComparison.Ordinal) == true || p.PropertyType.IsGenericType)
            {
                foreach (var problem in UnknownIn(child, p.PropertyType))
                {
                    yield return problem;
                }
            }
        }
    }
}
