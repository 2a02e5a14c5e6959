using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Windhover.Blueprints.DevOpsCommander.Analysis;
using Windhover.Blueprints.DevOpsCommander.Policy;
using Windhover.Blueprints.DevOpsCommander.Storage;
using Windhover.Blueprints.DevOpsCommander.Telemetry;

namespace Windhover.Blueprints.DevOpsCommander.Dashboard;

/// <summary>The dashboard, rendered on the server: plain HTML, inline SVG charts, no script from elsewhere.</summary>
public static class DashboardPage
{
    public sealed record Model(
        DashboardStats Stats,
        IReadOnlyList<OutcomeRecord> Outcomes,
        IReadOnlyList<DeploymentAction> Actions,
        IReadOnlyDictionary<string, IReadOnlyList<MetricSample>> Series,
        PolicyReport? Policy,
        string AiMode,
        DateTimeOffset Now);

    public static string Full(Model m) => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>AI DevOps Commander</title>
        <style>
        body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;background:#0f172a;color:#e2e8f0}
        header{padding:16px 24px;background:#111827;border-bottom:1px solid #1f2937;display:flex;justify-content:space-between;align-items:center}
        h1{font-size:20px;margin:0} h2{font-size:16px;margin:24px 0 8px} h3{font-size:15px;margin:0 0 6px}
        main{padding:0 24px 24px} .muted{color:#94a3b8;font-size:13px}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin-top:16px}
        .card{background:#1e293b;border-radius:8px;padding:12px 16px}
        .card .v{font-size:26px;font-weight:600} .card .k{color:#94a3b8;font-size:12px;text-transform:uppercase}
        .badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600}
        .ROLLBACK{background:#7f1d1d;color:#fecaca} .CONTINUE{background:#14532d;color:#bbf7d0}
        .CRITICAL{background:#991b1b;color:#fee2e2} .DEGRADED{background:#92400e;color:#fef3c7} .HEALTHY{background:#166534;color:#dcfce7}
        table{border-collapse:collapse;width:100%} td,th{padding:6px 8px;border-bottom:1px solid #334155;text-align:left;font-size:13px}
        .deployments{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:12px}
        .deployment{background:#1e293b;border-radius:8px;padding:14px}
        .row{display:flex;gap:16px;flex-wrap:wrap;margin:6px 0} .row>div{min-width:120px}
        ul{margin:4px 0 4px 18px;padding:0;font-size:13px} p{font-size:13px;margin:4px 0}
        svg text{fill:#cbd5e1;font-size:11px}
        </style></head>
        <body>
        <header><h1>AI DevOps Commander</h1><span class="muted" id="live">live updates: connecting…</span></header>
        <main id="content">{{Content(m)}}</main>
        <script>
        (function(){
          var live=document.getElementById('live');
          function refresh(){fetch('/dashboard/content').then(function(r){return r.text();}).then(function(h){document.getElementById('content').innerHTML=h;});}
          if(!window.EventSource){live.textContent='live updates unavailable';return;}
          var es=new EventSource('/api/dashboard/stream');
          es.onopen=function(){live.textContent='live updates: on';};
          es.onerror=function(){live.textContent='live updates: reconnecting…';};
          es.addEventListener('dashboard',function(){refresh();});
        })();
        </script>
        </body></html>
        """;

    public static string Content(Model m)
    {
        var sb = new StringBuilder();
        var s = m.Stats;
        sb.Append(CultureInfo.InvariantCulture, $"<p class=\"muted\">Decisions by: {E(m.AiMode == "llm" ? "LLM through the AIAgent task" : "threshold analyser (no LLM provider configured)")}. Updated {E(m.Now.UtcDateTime.ToString("u", CultureInfo.InvariantCulture))}.</p>");
        sb.Append("<section class=\"cards\">");
        Card(sb, "total-deployments", "Total deployments", s.TotalDeployments.ToString(CultureInfo.InvariantCulture));
        Card(sb, "success-rate", "Success rate", s.SuccessRatePercent is { } sr ? $"{N(sr)}%" : "–");
        Card(sb, "ai-accuracy", "AI accuracy", s.AiAccuracyPercent is { } acc ? $"{N(acc)}%" : "–", $"{s.VerifiedDecisions} verified decisions");
        Card(sb, "mttr", "MTTR", s.MttrSeconds is { } mttr ? $"{N(mttr)} s" : "–", $"{s.Rollbacks} rollbacks");
        if (m.Policy is { } p)
        {
            Card(sb, "policy-accuracy", "Learned policy", $"{N(100 * p.HeldOutAccuracy)}%", $"held-out accuracy (train {N(100 * p.TrainingAccuracy)}%), reward {N(p.HeldOut.PolicyMeanReward)} vs rules {N(p.HeldOut.ThresholdMeanReward)}");
        }

        sb.Append("</section>");

        sb.Append("<h2>Decision timeline</h2>");
        sb.Append(HealthTimeline(m.Outcomes));
        sb.Append("<table id=\"timeline\"><tr><th>Recorded</th><th>Deployment</th><th>Decision</th><th>Confidence</th><th>Decided by</th><th>Policy</th><th>Outcome</th></tr>");
        foreach (var o in m.Outcomes.OrderByDescending(o => o.Id))
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"<tr data-deployment=\"{E(o.DeploymentId)}\" data-decision=\"{E(o.Decision)}\"><td>{E(o.RecordedAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture))}</td><td>{E(o.DeploymentId)} <span class=\"muted\">{E(o.Service)} {E(o.Version)}</span></td>" +
                $"<td><span class=\"badge {E(o.Decision)}\">{E(o.Decision)}</span></td><td>{o.Confidence}%</td><td>{E(o.DecidedBy)}{(o.Rule is null ? "" : " · " + E(o.Rule))}</td>" +
                $"<td>{(o.Policy is { } po ? $"<span class=\"badge {E(po.Recommendation)}\">{E(po.Recommendation)}</span> {po.Confidence}%" : "–")}</td><td>{OutcomeText(o)}</td></tr>");
        }

        sb.Append("</table>");

        sb.Append("<h2>Deployments</h2><div class=\"deployments\">");
        foreach (var o in m.Outcomes.GroupBy(o => o.DeploymentId).Select(g => g.OrderBy(x => x.Id).Last()).OrderByDescending(o => o.Id))
        {
            var a = o.Analysis;
            sb.Append(CultureInfo.InvariantCulture, $"<article class=\"deployment\" id=\"deployment-{E(o.DeploymentId)}\" data-deployment=\"{E(o.DeploymentId)}\" data-decision=\"{E(o.Decision)}\">");
            sb.Append(CultureInfo.InvariantCulture, $"<h3>{E(o.DeploymentId)} · {E(o.Service)} {E(o.Version)} <span class=\"badge {E(o.Status)}\">{E(o.Status)}</span></h3>");
            sb.Append("<div class=\"row\">");
            sb.Append(CultureInfo.InvariantCulture, $"<div><div class=\"muted\">AI decision</div><span class=\"badge {E(o.Decision)}\">{E(o.Decision)}</span> {o.Confidence}%</div>");
            if (o.Policy is { } pol)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<div><div class=\"muted\">Learned policy</div><span class=\"badge {E(pol.Recommendation)}\">{E(pol.Recommendation)}</span> {pol.Confidence}% <span class=\"muted\">(held-out acc. {N(100 * pol.HeldOutAccuracy)}%)</span></div>");
            }

            sb.Append(CultureInfo.InvariantCulture, $"<div><div class=\"muted\">Health score</div>{(o.HealthScore is { } hs ? N(hs) : "–")}/100</div>");
            sb.Append(CultureInfo.InvariantCulture, $"<div><div class=\"muted\">Action</div>{ActionText(o, m.Actions)}</div>");
            sb.Append(CultureInfo.InvariantCulture, $"<div><div class=\"muted\">Outcome</div>{OutcomeText(o)}</div>");
            sb.Append("</div>");
            sb.Append(CultureInfo.InvariantCulture, $"<p><b>Analysis:</b> {E(o.Issue ?? "")}{(o.Impact is null ? "" : " — " + E(o.Impact))}</p>");
            sb.Append(CultureInfo.InvariantCulture, $"<p><b>Reasoning</b> ({E(o.DecidedBy)}): {E(o.Reasoning)}</p>");
            if (a is not null)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<p class=\"muted\">Logs: {a.LogAnalysis.TotalLogs} lines, {a.LogAnalysis.ErrorCount} errors, {a.LogAnalysis.WarningCount} warnings ({N(a.LogAnalysis.ErrorRatePercent)}% error lines){(a.LogAnalysis.Signals.Count > 0 ? "; signals: " + E(string.Join(", ", a.LogAnalysis.Signals)) : "")}</p>");
                sb.Append("<div class=\"muted\">Anomalies</div>");
                sb.Append(a.Anomalies.Count == 0 ? "<p>none</p>" : "<ul>" + string.Concat(a.Anomalies.Select(x => $"<li>{E(x.Message)} ({E(x.Severity)})</li>")) + "</ul>");
                sb.Append(MetricBars(a.Metrics));
            }

            if (m.Series.TryGetValue(o.DeploymentId, out var series) && series.Count > 1)
            {
                sb.Append(Sparklines(series));
            }

            sb.Append("</article>");
        }

        sb.Append("</div>");
        if (m.Outcomes.Count == 0)
        {
            sb.Append("<p class=\"muted\" id=\"empty\">No decisions yet: trigger the devops-autonomous-loop flow.</p>");
        }

        return sb.ToString();
    }

    private static void Card(StringBuilder sb, string id, string label, string value, string? note = null) =>
        sb.Append(CultureInfo.InvariantCulture, $"<div class=\"card\" id=\"stat-{id}\"><div class=\"k\">{E(label)}</div><div class=\"v\">{E(value)}</div>{(note is null ? "" : $"<div class=\"muted\">{E(note)}</div>")}</div>");

    private static string ActionText(OutcomeRecord o, IReadOnlyList<DeploymentAction> actions)
    {
        var rollback = actions.FirstOrDefault(a => a.DeploymentId == o.DeploymentId && a.Kind == "rollback");
        if (rollback is not null)
        {
            return $"rolled back {E(rollback.FromVersion)} → {E(rollback.ToVersion ?? "?")}{(rollback.Hook == "none" ? "" : $" via {E(rollback.Hook)}")}";
        }

        return actions.Any(a => a.DeploymentId == o.DeploymentId && a.Kind == "continue") ? "continued, monitoring" : E(o.Action);
    }

    private static string OutcomeText(OutcomeRecord o) => o.ActualOutcome is null
        ? "<span class=\"muted\">not yet verified</span>"
        : $"{E(o.ActualOutcome)} · {(o.Correct == true ? "correct" : "wrong")} ({N(Rewards.For(o.Decision, o.ActualOutcome == "unhealthy"))})";

    /// <summary>Horizontal bars: each figure against its limit (bar full at 2x the limit; red past the limit).</summary>
    private static string MetricBars(MetricsSnapshot m)
    {
        var rows = new List<(string Label, double Value, double Limit, bool LowerIsWorse, string Unit)>();
        if (m.ErrorRatePercent is { } e) rows.Add(("error rate", e, 5, false, "%"));
        if (m.MemoryUsagePercent is { } mem) rows.Add(("memory", mem, 90, false, "%"));
        if (m.CpuUsagePercent is { } cpu) rows.Add(("CPU", cpu, 85, false, "%"));
        if (m.ResponseTimeMs?.P99 is { } p99) rows.Add(("p99 latency", p99, 5000, false, " ms"));
        if (m.DatabaseQueryTimeMs is { } db) rows.Add(("DB query", db, 2000, false, " ms"));
        if (m.CacheHitRatePercent is { } cache) rows.Add(("cache hit", cache, 60, true, "%"));
        if (rows.Count == 0)
        {
            return "";
        }

        const int width = 380, labelWidth = 90, barWidth = 200, rowHeight = 20;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg class=\"metric-chart\" width=\"{width}\" height=\"{rows.Count * rowHeight + 6}\" role=\"img\" aria-label=\"metrics against limits\">");
        for (var i = 0; i < rows.Count; i++)
        {
            var (label, value, limit, lowerIsWorse, unit) = rows[i];
            var y = i * rowHeight + 3;
            var fraction = Math.Clamp(lowerIsWorse ? value / 100 : value / (2 * limit), 0, 1);
            var bad = lowerIsWorse ? value < limit : value > limit;
            var limitX = labelWidth + (lowerIsWorse ? limit / 100 : 0.5) * barWidth;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{y + 12}\">{E(label)}</text>");
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{labelWidth}\" y=\"{y}\" width=\"{barWidth}\" height=\"14\" fill=\"#334155\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{labelWidth}\" y=\"{y}\" width=\"{N(fraction * barWidth)}\" height=\"14\" fill=\"{(bad ? "#ef4444" : "#22c55e")}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{N(limitX)}\" x2=\"{N(limitX)}\" y1=\"{y - 1}\" y2=\"{y + 15}\" stroke=\"#facc15\" stroke-width=\"2\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{labelWidth + barWidth + 6}\" y=\"{y + 12}\">{N(value)}{unit}</text>");
        }

        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>One sparkline per pushed metric over time.</summary>
    private static string Sparklines(IReadOnlyList<MetricSample> series)
    {
        var sb = new StringBuilder("<div class=\"muted\">Pushed metrics over time</div>");
        foreach (var group in series.GroupBy(s => s.Name).OrderBy(g => g.Key, StringComparer.Ordinal).Take(6))
        {
            var points = group.OrderBy(s => s.Time).ToList();
            if (points.Count < 2)
            {
                continue;
            }

            const double w = 240, h = 36;
            var t0 = points[0].Time;
            var span = Math.Max(1, (points[^1].Time - t0).TotalSeconds);
            var min = points.Min(p => p.Value);
            var max = points.Max(p => p.Value);
            var range = max - min < 1e-9 ? 1 : max - min;
            var path = string.Join(" ", points.Select((p, i) =>
                string.Create(CultureInfo.InvariantCulture, $"{(i == 0 ? "M" : "L")}{N((p.Time - t0).TotalSeconds / span * w)},{N(h - 2 - (p.Value - min) / range * (h - 4))}")));
            sb.Append(CultureInfo.InvariantCulture, $"<svg class=\"sparkline\" width=\"{w + 130}\" height=\"{h}\"><path d=\"{path}\" fill=\"none\" stroke=\"#38bdf8\" stroke-width=\"1.5\"/><text x=\"{w + 6}\" y=\"{h / 2 + 4}\">{E(group.Key)} {N(points[^1].Value)}</text></svg>");
        }

        return sb.ToString();
    }

    /// <summary>Health score of each decision in order, coloured by decision.</summary>
    private static string HealthTimeline(IReadOnlyList<OutcomeRecord> outcomes)
    {
        var list = outcomes.OrderBy(o => o.Id).TakeLast(50).ToList();
        if (list.Count == 0)
        {
            return "";
        }

        const double w = 600, h = 90, pad = 24;
        var step = list.Count == 1 ? 0 : (w - 2 * pad) / (list.Count - 1);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg id=\"health-timeline\" width=\"{w}\" height=\"{h + 14}\" role=\"img\" aria-label=\"health score per decision\">");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{pad}\" x2=\"{w - pad}\" y1=\"{N(Y(70))}\" y2=\"{N(Y(70))}\" stroke=\"#facc15\" stroke-dasharray=\"4 3\"/><text x=\"0\" y=\"{N(Y(70) + 4)}\">70</text>");
        for (var i = 0; i < list.Count; i++)
        {
            var o = list[i];
            var x = pad + i * step;
            var y = Y(o.HealthScore ?? 0);
            sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{N(x)}\" cy=\"{N(y)}\" r=\"6\" fill=\"{(o.Decision == Decisions.Rollback ? "#ef4444" : "#22c55e")}\"><title>{E(o.DeploymentId)}: {E(o.Decision)}, health {N(o.HealthScore ?? 0)}</title></circle>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{N(x - 20)}\" y=\"{h + 10}\">{E(o.DeploymentId)}</text>");
        }

        sb.Append("</svg>");
        return sb.ToString();

        static double Y(double score) => 6 + (100 - Math.Clamp(score, 0, 100)) / 100 * (h - 12);
    }

    private static string E(string s) => HtmlEncoder.Default.Encode(s);

    private static string N(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
}
