using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FaceStream.Cli.Demo;
using FaceStream.Tests.Support;
using FaceStream.Tests.Worker;
using Xunit;

namespace FaceStream.Tests.Cli;

/// <summary>The command line's surface: generated help for every command, usage errors that name the problem (exit 2), Ctrl+C on watch.</summary>
[Trait("Category", "Live")]
public class CommandLineTests
{
    /// <summary>Every command and subcommand of the tree, as the words typed before --help.</summary>
    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        void Walk(Command command, string path)
        {
            data.Add(path);
            foreach (var sub in command.Subcommands)
            {
                Walk(sub, (path + " " + sub.Name).Trim());
            }
        }

        Walk(FaceStream.Cli.Cli.Root(), "");
        return data;
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Help_of_every_command_exits_0_and_lists_its_arguments_options_and_subcommands(string path)
    {
        var root = FaceStream.Cli.Cli.Root();
        string[] words = path.Length == 0 ? [] : path.Split(' ');
        var command = words.Aggregate((Command)root, (c, name) => c.Subcommands.Single(s => s.Name == name));
        var output = new StringWriter();
        int exit = root.Parse([.. words, "--help"]).Invoke(new InvocationConfiguration { Output = output });

        string help = output.ToString();
        Assert.Equal(0, exit);
        // The usage line names the command (after the executable's name, here the test host's).
        Assert.Contains("Usage:", help, StringComparison.Ordinal);
        Assert.Contains(path, help, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(command.Description), $"'{path}' has no description");
        // Its own options, the global ones (--models, --config, …) and --help.
        foreach (var option in command.Options.Concat(FaceStream.Cli.CliOptions.Global))
        {
            Assert.Contains(option.Name, help, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{option.Name} of '{path}' has no description");
        }

        foreach (var argument in command.Arguments)
        {
            Assert.Contains($"<{argument.Name}>", help, StringComparison.Ordinal);
        }

        foreach (var sub in command.Subcommands)
        {
            Assert.Contains(sub.Name, help, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Watch_help_from_the_executable_lists_its_options_with_exit_0()
    {
        var r = CliRunner.Run("watch", "--help");
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (var option in new[] { "--gallery", "--watchlist", "--json", "--fps", "--realtime", "--config", "--models", "--min-face" })
        {
            Assert.Contains(option, r.Stdout, StringComparison.Ordinal);
        }

        Assert.Equal("", r.Stderr);
        var root = CliRunner.Run("--help");
        Assert.Equal(0, root.ExitCode);
        Assert.Contains("--version", root.Stdout, StringComparison.Ordinal);
        Assert.Contains("watchlist", root.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--frobnicate", "detect", "models/samples/sample1.jpg", "--frobnicate")]
    [InlineData("--frobnicate", "watchlist", "list", "--frobnicate")]
    [InlineData("--frobnicate=3", "bench", "decode", "--frobnicate=3")]
    [InlineData("'frobnicate'", "frobnicate")]
    public void An_unknown_option_or_command_exits_2_naming_it_before_anything_runs(string named, params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 2, r.Stdout + r.Stderr);
        Assert.Contains($"usage error: unknown {(named.StartsWith('-') ? "option" : "command")} {named}", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_value_exits_2_naming_the_option_the_value_and_the_command_to_ask_for_help()
    {
        var r = CliRunner.Run("bench", "pipeline", "--seconds", "soon");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--seconds must be an integer between 5 and 3600 (got 'soon')", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("facestream bench pipeline --help", r.Stderr, StringComparison.Ordinal);
        var missing = CliRunner.Run("eval", "detection", "--images", "x");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--wider-gt", missing.Stderr, StringComparison.Ordinal);
        // Anything after `--` is an argument, even when it looks like an option.
        var dashed = CliRunner.Run("probe", "--timeout", "1", "--", "--not-an-option.mp4");
        Assert.Equal(1, dashed.ExitCode);
        Assert.Contains("--not-an-option.mp4", dashed.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pipeline", "--batches-in-flight", "9", "--batches-in-flight must be an integer between 1 and 8 (got '9')")]
    [InlineData("pipeline", "--warm-up", "-1", "--warm-up must be an integer between 0 and 600 (got '-1')")]
    [InlineData("adaptive", "--reference-pnet-threshold", "1", "--reference-pnet-threshold must be a number between 0.05 and 0.99 (got '1')")]
    public void The_benches_refuse_settings_out_of_range_before_anything_runs(string bench, string option, string value, string message)
    {
        var r = CliRunner.Run("bench", bench, option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_command_given_without_its_subcommand_exits_2_and_prints_its_help()
    {
        var r = CliRunner.Run("watchlist");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("usage error:", r.Stderr, StringComparison.Ordinal);
        foreach (var sub in new[] { "list", "show", "delete", "delete-template", "reembed" })
        {
            Assert.Contains(sub, r.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Run_takes_only_the_config_and_says_where_the_other_settings_go()
    {
        var r = CliRunner.Run("run", "--models", "/tmp/models");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("run takes only --config FILE; set --models in the config file", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public Task Sigint_stops_watch_cleanly_with_its_summary_and_exit_code_0() => Bounded.Run(async () =>
    {
        var gallery = TestAssets.TempDirectory();
        using (var engine = TestAssets.Engine(minFace: 40))
        {
            DemoAssets.MakeGallery(engine, TestAssets.Store, gallery);
        }

        // Three minutes of video played in real time: it ends only because of the signal.
        // Through `env --default-signal=INT`: a test run started in the background of a non-interactive shell (`cmd &`)
        // inherits SIGINT ignored, and an ignored SIGINT stays ignored across exec, so the signal would never arrive.
        var psi = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestAssets.RepositoryRoot };
        foreach (var a in new[] { "--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "facestream.dll"), "watch", VideoClips.Looped(VideoClips.Instance.Faces), "--realtime", "--json", "--gallery", gallery, "--min-face", "40" })
        {
            psi.ArgumentList.Add(a);
        }

        using var watch = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var firstMatch = new TaskCompletionSource();
        watch.OutputDataReceived += (_, e) =>
        {
            lock (stdout)
            {
                stdout.AppendLine(e.Data);
            }

            if (e.Data?.Contains("\"kind\":\"match\"", StringComparison.Ordinal) == true)
            {
                firstMatch.TrySetResult();
            }
        };
        var stderr = watch.StandardError.ReadToEndAsync();
        watch.BeginOutputReadLine();
        try
        {
            var seen = await Task.WhenAny(firstMatch.Task, watch.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(2)));
            Assert.True(seen == firstMatch.Task, "no match event before the signal; stderr:\n" + (watch.HasExited ? await stderr : ""));
            using (var kill = Process.Start("kill", ["-INT", watch.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await watch.WaitForExitAsync(limit.Token);
            Assert.True(watch.ExitCode == 0, $"exit {watch.ExitCode}:\n{await stderr}");
            string[] lines;
            lock (stdout)
            {
                lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            }

            var summary = JsonDocument.Parse(lines[^1]).RootElement;
            Assert.Equal("summary", summary.GetProperty("kind").GetString());
            var camera = summary.GetProperty("cameras")[0];
            Assert.False(camera.GetProperty("failed").GetBoolean());
            Assert.True(camera.GetProperty("matches").GetInt32() >= 1);
        }
        finally
        {
            if (!watch.HasExited)
            {
                watch.Kill(entireProcessTree: true);
            }
        }
    });
}
