using System.Globalization;

namespace FaceStream.Cli;

/// <summary>Wrong command-line usage (exit code 2).</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Parsed arguments of one command: positionals, valued options and flags, checked against what the command accepts.</summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    /// <summary>Options every command accepts.</summary>
    public static readonly string[] GlobalValued = ["--models", "--config", "--provider", "--embedder", "--threads", "--min-face"];

    public static CliArgs Parse(IEnumerable<string> args, string[] valued, string[] flags)
    {
        var r = new CliArgs();
        var allValued = valued.Concat(GlobalValued).ToHashSet();
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (a == "--")
            {
                r.Positionals.AddRange(list.Skip(i + 1));
                break;
            }

            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                string name = a;
                string? value = null;
                int eq = a.IndexOf('=');
                if (eq > 0)
                {
                    name = a[..eq];
                    value = a[(eq + 1)..];
                }

                if (allValued.Contains(name))
                {
                    if (value is null)
                    {
                        if (i + 1 >= list.Count)
                        {
                            throw new UsageException($"option {name} needs a value");
                        }

                        value = list[++i];
                    }

                    r._values[name] = value;
                }
                else if (flags.Contains(name) && value is null)
                {
                    r._flags.Add(name);
                }
                else
                {
                    throw new UsageException($"unknown option {name}");
                }
            }
            else
            {
                r.Positionals.Add(a);
            }
        }

        return r;
    }

    public bool Flag(string name) => _flags.Contains(name);

    public string? Value(string name) => _values.GetValueOrDefault(name);

    public int? Int(string name, int min, int max)
    {
        if (Value(name) is not { } v)
        {
            return null;
        }

        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
        {
            throw new UsageException($"{name} must be an integer between {min} and {max} (got '{v}')");
        }

        return n;
    }

    public float? Float(string name, float min, float max)
    {
        if (Value(name) is not { } v)
        {
            return null;
        }

        if (!float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float n) || !float.IsFinite(n) || n < min || n > max)
        {
            throw new UsageException($"{name} must be a number between {min} and {max} (got '{v}')");
        }

        return n;
    }
}
