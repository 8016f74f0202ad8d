using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using FaceStream.Cli;
using FaceStream.Cli.Commands;
using FaceStream.Inference.Models;
using FaceStream.Tools.Models;
using FaceStream.Inference.Runtime;

return await Cli.RunAsync(args);

namespace FaceStream.Cli
{
    /// <summary>The command tree, and the exit codes: 0 ok, 1 an input, model or runtime failure, 2 bad usage (named).</summary>
    public static class Cli
    {
        /// <summary>How long a command that honours Ctrl+C / SIGTERM (watch, the watchlist commands) may take to finish after it.</summary>
        private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

        public static RootCommand Root()
        {
            var root = new RootCommand("""
                facestream: face detection, recognition and evaluation on ONNX Runtime.
                Exit codes: 0 success, 1 an input or model failed (the others are still processed), 2 bad usage.
                """);
            foreach (var option in CliOptions.Global)
            {
                root.Options.Add(option);
            }

            // The same version as facestream_info{version} on /metrics.
            root.Options.OfType<VersionOption>().Single().Action = new PrintVersion();
            Command[] commands =
            [
                ModelsCommand.Create(),
                DetectCommand.Create(),
                EmbedCommand.Create(),
                CompareCommand.Create(),
                AttributesCommand.Create(),
                ProbeCommand.Create(),
                EnrollCommand.Create(),
                IdentifyCommand.Create(),
                WatchlistCommand.Create(),
                RunCommand.Create(),
                WatchCommand.Create(),
                EvalCommand.Create(),
                BenchCommand.Create(),
                DemoCommand.Create(),
            ];
            foreach (var command in commands)
            {
                root.Subcommands.Add(command);
            }

            return root;
        }

        public static async Task<int> RunAsync(string[] args)
        {
            var root = Root();
            // `facestream help [COMMAND...]` as `facestream [COMMAND...] --help`.
            var parse = root.Parse(args is ["help", .. var rest] ? [.. rest, "--help"] : args);
            if (parse.Action is ParseErrorAction || UnknownOptions(parse).Any())
            {
                return UsageError(root, parse);
            }

            try
            {
                return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = StopGrace });
            }
            catch (Exception e) when (e is UsageException or UnknownModelException)
            {
                Console.Error.WriteLine($"usage error: {e.Message}");
                Console.Error.WriteLine($"run `{CommandLine(parse.CommandResult)} --help` for {(parse.CommandResult.Command is RootCommand ? "the commands" : "its options")}");
                return 2;
            }
            catch (Exception e) when (e is ModelNotReadyException or ModelInstallException or ExecutionProviderException or InvalidDataException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM stopped a command that honours it: the exit code of a process ended by SIGINT.
                return 130;
            }
        }

        /// <summary>Names each problem on stderr (a command without one of its subcommands also prints its help) and returns 2.</summary>
        private static int UsageError(RootCommand root, ParseResult parse)
        {
            var command = parse.CommandResult;
            bool needsSubcommand = command.Command.Action is null && command.Command.Subcommands.Count > 0;
            // Tokens nothing took are named the way the rest of the CLI names them (System.CommandLine: "Unrecognized command or argument").
            var unmatched = parse.UnmatchedTokens.Select(t => t.StartsWith('-') ? $"unknown option {t}" : needsSubcommand ? $"unknown command '{t}'" : $"unexpected argument '{t}'");
            var messages = unmatched
                .Concat(parse.Errors.Select(e => e.Message).Where(m => !parse.UnmatchedTokens.Any(t => m.Contains($"'{t}'", StringComparison.Ordinal))))
                .Concat(UnknownOptions(parse).Select(o => $"unknown option {o}"));
            if (needsSubcommand && parse.UnmatchedTokens.Count > 0)
            {
                // "Required command was not provided" adds nothing to "unknown command".
                messages = unmatched;
            }

            foreach (var message in messages)
            {
                Console.Error.WriteLine($"usage error: {message}");
            }

            if (needsSubcommand)
            {
                root.Parse([.. CommandLine(command).Split(' ').Skip(1), "--help"]).Invoke();
            }
            else
            {
                Console.Error.WriteLine($"run `{CommandLine(command)} --help` for {(command.Command is RootCommand ? "the commands" : "its options")}");
            }

            return 2;
        }

        /// <summary>
        /// Tokens that look like options (--name, -x) but were taken as positional arguments: System.CommandLine passes an
        /// option it does not know to the command's arguments. Negative numbers and anything after `--` are arguments.
        /// </summary>
        private static IEnumerable<string> UnknownOptions(ParseResult parse)
        {
            var afterDoubleDash = parse.Tokens.SkipWhile(t => t.Type != TokenType.DoubleDash).Skip(1).ToHashSet(ReferenceEqualityComparer.Instance);
            for (SymbolResult? r = parse.CommandResult; r is CommandResult c; r = c.Parent)
            {
                foreach (var token in c.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens))
                {
                    if (token.Value.Length > 1 && token.Value[0] == '-' && !afterDoubleDash.Contains(token)
                        && !double.TryParse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    {
                        yield return token.Value;
                    }
                }
            }
        }

        /// <summary>"facestream watchlist show" for the command <paramref name="result"/> stands for.</summary>
        private static string CommandLine(CommandResult result)
        {
            var names = new List<string>();
            for (SymbolResult? r = result; r is CommandResult c; r = c.Parent)
            {
                names.Add(c.Command is RootCommand ? "facestream" : c.Command.Name);
            }

            names.Reverse();
            return string.Join(' ', names);
        }

        private sealed class PrintVersion : SynchronousCommandLineAction
        {
            public override int Invoke(ParseResult parseResult)
            {
                Console.Out.WriteLine($"facestream {Worker.Hosting.ProductVersion.Current}");
                return 0;
            }
        }
    }
}
