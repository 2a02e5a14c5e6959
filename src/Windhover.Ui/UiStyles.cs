namespace Windhover.Ui;

/// <summary>The UI's stylesheet (inlined in the page: no static asset pipeline needed). Light and dark themes via CSS variables.</summary>
internal static class UiStyles
{
    public const string Css = """
:root { --bg:#f6f7f9; --panel:#ffffff; --fg:#1d2330; --muted:#5f6b7a; --line:#d9dee5; --accent:#2f5bd3; --accent-fg:#fff;
  --ok:#1d8a4e; --bad:#c62f3b; --warn:#b7791f; --run:#2f7bd3; --code:#f0f2f5; --focus:#f0a500; }
[data-theme=dark] { --bg:#12151b; --panel:#1b2029; --fg:#e5e9f0; --muted:#9aa5b4; --line:#2e3542; --accent:#6d92f5; --accent-fg:#0b0e13;
  --ok:#46c37b; --bad:#ef5a66; --warn:#e2a93b; --run:#5aa2f0; --code:#161a21; --focus:#ffc640; }
* { box-sizing:border-box; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--fg); }
a { color:var(--accent); }
:focus-visible { outline:3px solid var(--focus); outline-offset:2px; }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; z-index:9; background:var(--panel); padding:6px; }
.shell { display:flex; min-height:100vh; }
.side { width:200px; flex:none; background:var(--panel); border-right:1px solid var(--line); padding:16px 12px; display:flex; flex-direction:column; gap:12px; }
.side ul { list-style:none; margin:0; padding:0; display:flex; flex-direction:column; gap:2px; }
.side li a { display:block; padding:7px 10px; border-radius:6px; text-decoration:none; color:var(--fg); }
.side li a:hover { background:var(--bg); } .side li a.active { background:var(--accent); color:var(--accent-fg); }
.brand { font-weight:700; font-size:18px; text-decoration:none; color:var(--fg) !important; padding:0 10px; }
.theme { margin-top:auto; }
main { flex:1; padding:20px 28px; min-width:0; }
h1 { font-size:22px; margin:0 0 14px; } h2 { font-size:17px; margin:22px 0 8px; }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:14px; }
.row { display:flex; gap:10px; align-items:center; flex-wrap:wrap; }
.btn, button { font:inherit; border:1px solid var(--accent); background:var(--accent); color:var(--accent-fg); border-radius:6px; padding:6px 14px; cursor:pointer; text-decoration:none; display:inline-block; }
.btn.ghost, button.ghost { background:transparent; color:var(--accent); }
button.danger { background:var(--bad); border-color:var(--bad); color:#fff; }
input, select, textarea { font:inherit; color:var(--fg); background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:6px 8px; }
label { display:block; font-weight:600; margin:10px 0 4px; } .hint { color:var(--muted); font-weight:400; font-size:13px; }
table { width:100%; border-collapse:collapse; background:var(--panel); border:1px solid var(--line); border-radius:8px; }
th, td { text-align:left; padding:7px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:600; font-size:13px; }
.mono, code, pre { font-family:ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size:13px; }
pre.json { background:var(--code); border:1px solid var(--line); border-radius:6px; padding:10px; overflow:auto; max-height:360px; margin:0; }
.state { font-weight:700; font-size:12px; padding:2px 8px; border-radius:10px; border:1px solid currentColor; white-space:nowrap; }
.state.SUCCESS { color:var(--ok); } .state.FAILED, .state.KILLED { color:var(--bad); } .state.WARNING, .state.KILLING, .state.PAUSED { color:var(--warn); }
.state.RUNNING, .state.CREATED { color:var(--run); }
.alert { border:1px solid var(--bad); color:var(--bad); background:var(--panel); border-radius:6px; padding:8px 12px; margin:10px 0; white-space:pre-wrap; }
.ok-msg { border:1px solid var(--ok); color:var(--ok); border-radius:6px; padding:8px 12px; margin:10px 0; }
.editor { display:flex; border:1px solid var(--line); border-radius:6px; background:var(--code); max-height:70vh; overflow:auto; }
.editor .gutter { flex:none; padding:8px 6px; text-align:right; color:var(--muted); user-select:none; border-right:1px solid var(--line); }
.editor .gutter span { display:block; padding:0 4px; } .editor .gutter span.err { background:var(--bad); color:#fff; border-radius:3px; }
.editor textarea, .editor .gutter { font-family:ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size:13px; line-height:20px; }
.editor textarea { flex:1; border:0; border-radius:0; background:transparent; padding:8px; resize:none; white-space:pre; overflow:hidden; min-height:300px; tab-size:2; position:relative; z-index:1; }
.editor .code { flex:1; position:relative; display:flex; min-width:0; }
.editor pre.hl { display:none; position:absolute; inset:0; margin:0; padding:8px; border:0; overflow:hidden; white-space:pre; pointer-events:none; tab-size:2;
  font-family:ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size:13px; line-height:20px; color:var(--fg); }
.editor.hl pre.hl { display:block; } .editor.hl textarea { color:transparent; caret-color:var(--fg); }
.y-k { color:var(--accent); font-weight:600; } .y-s { color:var(--ok); } .y-e { color:#b15dd6; } .y-l { color:var(--warn); } .y-c { color:var(--muted); font-style:italic; } .y-p { color:var(--muted); }
pre.source { background:var(--code); border:1px solid var(--line); border-radius:6px; padding:8px 0; margin:0; overflow:auto; line-height:20px; }
pre.source span.ln { display:inline-block; width:3.2em; padding-right:8px; text-align:right; color:var(--muted); user-select:none; }
table.diff { font-family:ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size:13px; }
table.diff td { padding:0 8px; border:0; white-space:pre; line-height:20px; } table.diff td.n { color:var(--muted); text-align:right; width:3em; user-select:none; }
table.diff tr.add { background:color-mix(in srgb, var(--ok) 16%, transparent); } table.diff tr.del { background:color-mix(in srgb, var(--bad) 16%, transparent); }
table.diff td.sign { width:1em; color:var(--muted); }
.problems { list-style:none; padding:0; margin:8px 0; } .problems li { color:var(--bad); padding:2px 0; }
.muted { color:var(--muted); }
.tree td:first-child { white-space:nowrap; }
.logs { max-height:420px; overflow:auto; background:var(--code); border:1px solid var(--line); border-radius:6px; padding:8px; }
.logs div { white-space:pre-wrap; } .logs .ERROR { color:var(--bad); } .logs .WARN { color:var(--warn); }
.pager { margin-top:10px; }
button.small, .btn.small { padding:2px 8px; font-size:12px; }
.sr { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); }
.label { display:inline-block; font-size:12px; padding:1px 8px; margin:0 4px 2px 0; border-radius:10px; background:var(--code); border:1px solid var(--line); }
details.edit-labels { margin:8px 0; } details.edit-labels summary { cursor:pointer; color:var(--accent); }
div.json { background:var(--code); border:1px solid var(--line); border-radius:6px; padding:8px 10px; overflow:auto; max-height:420px; font-family:ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size:13px; }
details.j > summary { cursor:pointer; color:var(--muted); } .j-body { padding-left:18px; border-left:1px dotted var(--line); margin-left:4px; }
.j-key { color:var(--accent); } .j-str { color:var(--ok); } .j-lit { color:var(--warn); } .j-null { color:var(--muted); } a.j-file { font-weight:600; }
svg.gantt { background:var(--panel); border:1px solid var(--line); border-radius:8px; max-width:100%; }
svg.gantt text { fill:var(--fg); font:12px system-ui, sans-serif; } svg.gantt text.tick { fill:var(--muted); font-size:11px; }
svg.gantt line.tick { stroke:var(--line); }
svg.gantt rect.bar { fill:var(--muted); } svg.gantt rect.SUCCESS { fill:var(--ok); } svg.gantt rect.FAILED, svg.gantt rect.KILLED { fill:var(--bad); }
svg.gantt rect.RUNNING, svg.gantt rect.CREATED { fill:var(--run); } svg.gantt rect.WARNING, svg.gantt rect.PAUSED, svg.gantt rect.KILLING { fill:var(--warn); }
svg.chart text.tick { fill:var(--muted); font:11px system-ui, sans-serif; } svg.chart line.axis { stroke:var(--line); }
.s-SUCCESS { fill:var(--ok); background:var(--ok); } .s-WARNING { fill:var(--warn); background:var(--warn); } .s-FAILED { fill:var(--bad); background:var(--bad); }
.s-KILLED { fill:#8a3b8f; background:#8a3b8f; } .s-RUNNING { fill:var(--run); background:var(--run); } .s-OTHER { fill:var(--muted); background:var(--muted); }
ul.legend { list-style:none; margin:8px 0 0; padding:0; gap:16px; font-size:13px; } .swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; }
.error-cell { color:var(--bad); white-space:pre-wrap; max-width:520px; }
main.bare { display:flex; justify-content:center; padding-top:12vh; } .signin { width:340px; } .signin input:not([type=hidden]) { width:100%; }
form.signout { display:flex; flex-direction:column; gap:6px; align-items:flex-start; margin-top:auto; padding:0 4px; } form.signout + .theme { margin-top:0; }
svg.topology text { fill:var(--fg); font:12px system-ui, sans-serif; }
svg.topology rect.task { fill:var(--panel); stroke:var(--accent); } svg.topology rect.group { fill:none; stroke:var(--muted); stroke-dasharray:4 3; }
svg.topology line { stroke:var(--muted); }
""";
}
