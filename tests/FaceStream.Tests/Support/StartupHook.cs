// A .NET startup hook (DOTNET_STARTUP_HOOKS=<this assembly>): when FACESTREAM_TEST_ASSEMBLIES_FILE is set, the process
// writes the names of the assemblies it loaded to that file as it exits. The runtime requires the class to be called
// StartupHook and to live outside any namespace.
internal static class StartupHook
{
    public const string FileVariable = "FACESTREAM_TEST_ASSEMBLIES_FILE";

    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } file)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                File.WriteAllLines(file, AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name ?? "").Order(StringComparer.Ordinal));
        }
    }
}
