using System.Reflection;

namespace FaceStream.Worker.Hosting;

/// <summary>The product version: &lt;Version&gt; in Directory.Build.props (the Helm chart's version and appVersion equal it).</summary>
public static class ProductVersion
{
    /// <summary>For example "0.1.0"; the build's source revision, when the SDK adds one ("0.1.0+abc…"), is left out.</summary>
    public static string Current { get; } = Read();

    private static string Read()
    {
        string informational = typeof(ProductVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
