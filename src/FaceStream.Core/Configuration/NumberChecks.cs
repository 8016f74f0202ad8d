using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;

namespace FaceStream.Core.Configuration;

/// <summary>
/// The check every number option gets without writing it: a float or double must be finite (NaN compares false with
/// every bound, so a hand-written <c>x &lt; 0 || x &gt; 1</c> lets it through), and any number within its
/// <see cref="RangeAttribute"/> when it has one. Walks nested option objects, lists (by index) and dictionaries (by key), naming each key as the
/// configuration does (<c>Cameras:0:AnalysisFps</c>).
/// </summary>
public static class NumberChecks
{
    public static IEnumerable<string> Problems(object options, string prefix)
    {
        foreach (var p in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0 || !p.CanRead || !p.CanWrite && !IsContainer(p.PropertyType))
            {
                continue;
            }

            var key = prefix + p.Name;
            var value = p.GetValue(options);
            foreach (var problem in Check(value, key, p.GetCustomAttribute<RangeAttribute>()))
            {
                yield return problem;
            }
        }
    }

    private static IEnumerable<string> Check(object? value, string key, RangeAttribute? range)
    {
        switch (value)
        {
            case int or long:
                if (range is not null && !range.IsValid(value))
                {
                    yield return FormattableString.Invariant($"{key} = {value} must be between {range.Minimum} and {range.Maximum}");
                }

                yield break;
            case null or string or bool or TimeSpan or Enum:
                yield break;
            case double or float:
                var d = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (!double.IsFinite(d))
                {
                    yield return $"{key} = {d.ToString(CultureInfo.InvariantCulture)} must be a finite number";
                }
                else if (range is not null && !range.IsValid(value))
                {
                    yield return $"{key} = {d.ToString(CultureInfo.InvariantCulture)} must be between {range.Minimum} and {range.Maximum}";
                }

                yield break;
            case IDictionary dictionary:
                foreach (DictionaryEntry entry in dictionary)
                {
                    foreach (var problem in Check(entry.Value, $"{key}:{entry.Key}", range))
                    {
                        yield return problem;
                    }
                }

                yield break;
            case IList list:
                for (int i = 0; i < list.Count; i++)
                {
                    foreach (var problem in Check(list[i], $"{key}:{i}", range))
                    {
                        yield return problem;
                    }
                }

                yield break;
            default:
                if (value.GetType().Namespace?.StartsWith("FaceStream", StringComparison.Ordinal) == true && value.GetType().IsClass)
                {
                    foreach (var problem in Problems(value, key + ":"))
                    {
                        yield return problem;
                    }
                }

                yield break;
        }
    }

    private static bool IsContainer(Type t) => t.IsClass && t != typeof(string);
}
