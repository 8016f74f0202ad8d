using System.Text;
using FaceStream.Worker.Configuration;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace FaceStream.Tests.Operations;

/// <summary>
/// The chart's rendered manifests read back as Kubernetes' own types (KubernetesClient, strict: a misspelt or
/// misplaced field fails), the ConfigMap's facestream.json accepted by the worker's own strict binding and validation,
/// and no secret value in any ConfigMap. scripts/check-charts.sh covers lint, schema, probes and the rules.
/// </summary>
[Trait("Category", "Live")]
public sealed class ChartRenderTests
{
    private const string SecretToken = "chart-test-secret-7f3a";

    public static TheoryData<string, string[]> Variants => new()
    {
        { "defaults", [] },
        { "production example", ["--namespace", "vision", "--values", "charts/facestream/values-production.example.yaml"] },
        { "gpu, rules and a created secret", ["--set", $"gpu.enabled=true,prometheusRule.enabled=true,secret.create=true,secret.values.Api__Token={SecretToken}"] },
        { "cluster mode, three replicas", ["--set", "replicaCount=3,config.Cluster.Redis=redis://redis:6379/2"] },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Rendered_objects_parse_strictly_and_the_config_passes_the_worker_validation(string variant, string[] args)
    {
        string rendered = await HelmTemplateAsync(args);
        var objects = new List<object>();
        foreach (var doc in rendered.Split("\n---", StringSplitOptions.RemoveEmptyEntries).Where(d => d.Contains("kind:", StringComparison.Ordinal)))
        {
            // The Prometheus operator's kinds are not Kubernetes types; promtool checks their rules (check-charts.sh).
            if (doc.Contains("apiVersion: monitoring.coreos.com/", StringComparison.Ordinal))
            {
                continue;
            }

            objects.AddRange(KubernetesYaml.LoadAllFromString(doc, strict: true));
        }

        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
        Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("/readyz/api", container.ReadinessProbe.HttpGet.Path);
        Assert.NotNull(container.StartupProbe);
        Assert.Single(objects.OfType<V1Service>());
        // Replicas share cameras only through leases: without Cluster:Redis an update must stop the old pod first.
        bool cluster = args.Any(a => a.Contains("config.Cluster.Redis", StringComparison.Ordinal));
        Assert.Equal(cluster ? "RollingUpdate" : "Recreate", deployment.Spec.Strategy.Type);

        // The worker's config (the dashboard's ConfigMap also holds a facestream.json: the Grafana board).
        var config = Assert.Single(objects.OfType<V1ConfigMap>(), c => c.Data?.ContainsKey("facestream.json") == true && !c.Metadata.Name.EndsWith("-dashboard", StringComparison.Ordinal));
        var settings = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(config.Data["facestream.json"]))).Build();
        var problems = WorkerSettings.Load(settings).Validate().ToList();
        Assert.True(problems.Count == 0, $"{variant}: the chart's config fails the worker's validation: {string.Join("; ", problems)}");

        foreach (var map in objects.OfType<V1ConfigMap>())
        {
            Assert.DoesNotContain(map.Data ?? new Dictionary<string, string>(), kv => kv.Value.Contains(SecretToken, StringComparison.Ordinal));
        }

        if (args.Any(a => a.Contains(SecretToken, StringComparison.Ordinal)))
        {
            Assert.Contains(objects.OfType<V1Secret>(), s => (s.StringData ?? new Dictionary<string, string>()).Values.Concat(
                (s.Data ?? new Dictionary<string, byte[]>()).Values.Select(v => Encoding.UTF8.GetString(v))).Any(v => v.Contains(SecretToken, StringComparison.Ordinal)));
        }
    }

    private static async Task<string> HelmTemplateAsync(string[] args)
    {
        string helm = Path.Combine(Repository.Root, "tools", "helm", "helm");
        Assert.True(File.Exists(helm), $"{helm} missing: scripts/setup.sh --test (scripts/ops-tools.sh) installs it");
        var (exit, stdout, stderr) = await Repository.RunAsync(helm, TimeSpan.FromMinutes(2), ["template", "facestream", "charts/facestream", .. args]);
        Assert.True(exit == 0, $"helm template failed: {stderr}");
        return stdout;
    }
}
