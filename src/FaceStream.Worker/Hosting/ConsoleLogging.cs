using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace FaceStream.Worker.Hosting;

/// <summary>
/// The one log format of the CLI and the worker: single lines with a time, all on standard error (standard output
/// carries results and events); under systemd, the journal's format instead.
/// </summary>
public static class ConsoleLogging
{
    /// <param name="config">Optional "Logging" section (levels per category), as in any .NET host.</param>
    public static ILoggingBuilder Configure(ILoggingBuilder logging, IConfiguration? config = null)
    {
        logging.ClearProviders();
        if (config is not null)
        {
            logging.AddConfiguration(config.GetSection("Logging"));
        }

        if (SystemdHelpers.IsSystemdService())
        {
            // Under systemd: journald's format (a "<6>" syslog level prefix per line, no time: the journal adds its own).
            logging.AddSystemdConsole();
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }

        return logging
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft", LogLevel.Warning);
    }
}
