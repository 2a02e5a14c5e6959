using System.Globalization;
using Windhover.Blueprints.DevOpsCommander.Analysis;
using Windhover.Blueprints.DevOpsCommander.Telemetry;

namespace Windhover.Blueprints.DevOpsCommander.Policy;

/// <summary>A labelled deployment for training and evaluation.</summary>
public sealed record LabelledDeployment(TelemetrySummary Summary, bool Unhealthy, string Origin, string Kind);

/// <summary>
/// A labelled synthetic deployment corpus from documented generative rules, deterministic for a seed.
/// <list type="bullet">
/// <item>45 % healthy: error rate lognormal(median 0.8 %, σ 0.6) ≤ 4 %; memory N(55, 10); CPU N(48, 12);
/// p99 lognormal(350 ms, 0.4); database lognormal(90 ms, 0.5); cache hit N(85, 6); 6-15 log lines, each an error with p 0.03.</item>
/// <item>35 % unhealthy, one failure mode chosen uniformly: memory-leak (memory N(91, 4), error lognormal(20 %, 0.6),
/// p99 lognormal(5000 ms, 0.5), out-of-memory line with p 0.7); database (database lognormal(2200 ms, 0.4), cache N(38, 10),
/// error lognormal(30 %, 0.5), p99 lognormal(9000 ms, 0.4), CPU N(85, 8)); error-burst (error lognormal(12 %, 0.5), the rest
/// healthy); latency-regression (p99 lognormal(6000 ms, 0.3), error N(3, 1.5), CPU N(80, 10)). Error lines with p 0.45.</item>
/// <item>20 % borderline: a healthy and an unhealthy draw mixed as (1 - t) h + t u with severity t ~ U(0, 1); unhealthy
/// with probability 1 / (1 + e^(-10 (t - 0.5))).</item>
/// <item>Then 3 % of all labels are flipped (noise). Figures are clipped to their physical ranges.</item>
/// </list>
/// </summary>
public static class SyntheticCorpus
{
    public static IReadOnlyList<LabelledDeployment> Generate(int count, int seed)
    {
        var rng = new Random(seed);
        var list = new List<LabelledDeployment>(count);
        for (var i = 0; i < count; i++)
        {
            var u = rng.NextDouble();
            Draw draw;
            bool unhealthy;
            string kind;
            if (u < 0.45)
            {
                draw = Healthy(rng);
                unhealthy = false;
                kind = "healthy";
            }
            else if (u < 0.80)
            {
                (draw, kind) = Unhealthy(rng);
                unhealthy = true;
            }
            else
            {
                var t = rng.NextDouble();
                var h = Healthy(rng);
                var (bad, mode) = Unhealthy(rng);
                draw = Mix(h, bad, t, rng);
                unhealthy = rng.NextDouble() < 1 / (1 + Math.Exp(-10 * (t - 0.5)));
                kind = "borderline-" + mode;
            }

            if (rng.NextDouble() < 0.03)
            {
                unhealthy = !unhealthy;
                kind += "-flipped";
            }

            var id = string.Create(CultureInfo.InvariantCulture, $"synthetic-{i:D4}");
            var summary = TelemetryAnalyzer.Summarise(id, "synthetic-service", "v0", "synthetic", "synthetic", draw.Logs, draw.Metrics, null, DateTimeOffset.UnixEpoch);
            list.Add(new LabelledDeployment(summary, unhealthy, "synthetic", kind));
        }

        return list;
    }

    private sealed record Draw(MetricsSnapshot Metrics, List<LogLine> Logs);

    private static Draw Healthy(Random r) => Make(r,
        err: Math.Min(4, LogNormal(r, 0.8, 0.6)), mem: Normal(r, 55, 10), cpu: Normal(r, 48, 12), p99: LogNormal(r, 350, 0.4),
        db: LogNormal(r, 90, 0.5), cache: Normal(r, 85, 6), errorLineP: 0.03, fatalP: 0);

    private static (Draw, string) Unhealthy(Random r)
    {
        switch (r.Next(4))
        {
            case 0:
                return (Make(r, LogNormal(r, 20, 0.6), Normal(r, 91, 4), Normal(r, 70, 12), LogNormal(r, 5000, 0.5), LogNormal(r, 300, 0.5), Normal(r, 65, 10), 0.45, 0.7), "memory-leak");
            case 1:
                return (Make(r, LogNormal(r, 30, 0.5), Normal(r, 65, 10), Normal(r, 85, 8), LogNormal(r, 9000, 0.4), LogNormal(r, 2200, 0.4), Normal(r, 38, 10), 0.45, 0), "database");
            case 2:
                return (Make(r, LogNormal(r, 12, 0.5), Normal(r, 58, 10), Normal(r, 55, 12), LogNormal(r, 600, 0.4), LogNormal(r, 120, 0.5), Normal(r, 82, 6), 0.45, 0.1), "error-burst");
            default:
                return (Make(r, Normal(r, 3, 1.5), Normal(r, 62, 10), Normal(r, 80, 10), LogNormal(r, 6000, 0.3), LogNormal(r, 400, 0.5), Normal(r, 75, 8), 0.45, 0), "latency-regression");
        }
    }

    private static Draw Make(Random r, double err, double mem, double cpu, double p99, double db, double cache, double errorLineP, double fatalP)
    {
        var metrics = new MetricsSnapshot
        {
            ErrorRatePercent = Math.Round(Math.Clamp(err, 0, 100), 2),
            MemoryUsagePercent = Math.Round(Math.Clamp(mem, 1, 100), 1),
            CpuUsagePercent = Math.Round(Math.Clamp(cpu, 1, 100), 1),
            ResponseTimeMs = new ResponseTimes(null, Math.Round(Math.Max(5, p99) / 3, 1), Math.Round(Math.Max(5, p99) * 0.7, 1), Math.Round(Math.Max(5, p99), 1), null),
            DatabaseQueryTimeMs = Math.Round(Math.Max(1, db), 1),
            CacheHitRatePercent = Math.Round(Math.Clamp(cache, 0, 100), 1),
        };
        var logs = new List<LogLine>();
        var n = r.Next(6, 16);
        var fatal = r.NextDouble() < fatalP;
        for (var i = 0; i < n; i++)
        {
            var t = DateTimeOffset.UnixEpoch.AddSeconds(i * 10);
            if (fatal && i == n - 1)
            {
                logs.Add(new LogLine(t, "ERROR", "OutOfMemoryError: heap space"));
            }
            else if (r.NextDouble() < errorLineP)
            {
                logs.Add(new LogLine(t, "ERROR", r.Next(3) switch { 0 => "request failed", 1 => "upstream timed out", _ => "database query failed" }));
            }
            else
            {
                logs.Add(new LogLine(t, "INFO", "request served"));
            }
        }

        return new Draw(metrics, logs);
    }

    private static Draw Mix(Draw h, Draw u, double t, Random r)
    {
        static double M(double? a, double? b, double t) => (1 - t) * (a ?? 0) + t * (b ?? 0);
        var hm = h.Metrics;
        var um = u.Metrics;
        var metrics = new MetricsSnapshot
        {
            ErrorRatePercent = Math.Round(M(hm.ErrorRatePercent, um.ErrorRatePercent, t), 2),
            MemoryUsagePercent = Math.Round(M(hm.MemoryUsagePercent, um.MemoryUsagePercent, t), 1),
            CpuUsagePercent = Math.Round(M(hm.CpuUsagePercent, um.CpuUsagePercent, t), 1),
            ResponseTimeMs = new ResponseTimes(null, null, null, Math.Round(M(hm.ResponseTimeMs?.P99, um.ResponseTimeMs?.P99, t), 1), null),
            DatabaseQueryTimeMs = Math.Round(M(hm.DatabaseQueryTimeMs, um.DatabaseQueryTimeMs, t), 1),
            CacheHitRatePercent = Math.Round(M(hm.CacheHitRatePercent, um.CacheHitRatePercent, t), 1),
        };
        return new Draw(metrics, r.NextDouble() < t ? u.Logs : h.Logs);
    }

    private static double Normal(Random r, double mean, double sd)
    {
        // Box-Muller
        var u1 = 1.0 - r.NextDouble();
        var u2 = r.NextDouble();
        return mean + sd * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static double LogNormal(Random r, double median, double sigma) => median * Math.Exp(Normal(r, 0, sigma));
}
