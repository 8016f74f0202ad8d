using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FaceStream.Worker.Hosting;

/// <summary>The composition root in a plain host, without HTTP endpoints: <c>facestream watch</c> and the pipeline benches.</summary>
public static class PipelineHost
{
    public static IHost Build(IConfiguration configuration, FaceStreamOverrides overrides)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        ConsoleLogging.Configure(builder.Logging);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.AddFaceStream(configuration, overrides);
        return builder.Build();
    }
}
