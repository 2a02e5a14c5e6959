'use strict';
// AI Red vs Blue Arena dashboard: plain JavaScript, no external assets.
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
let agents = [];
let liveId = null;
let transcriptId = null;

async function api(path, options) {
  const res = await fetch(path, Object.assign({ headers: { 'Content-Type': 'application/json' } }, options || {}));
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error((body && body.message) || res.statusText);
  return body;
}

async function loadAgents() {
  agents = await api('/api/agents');
  document.querySelectorAll('select[data-type]').forEach((sel) => {
    const type = sel.dataset.type;
    sel.innerHTML = agents.filter((a) => a.type === type).map((a) => `<option value="${esc(a.id)}">${esc(a.name)} (${esc(a.id)} v${a.version})</option>`).join('');
  });
}

function formValues() {
  const f = $('#match-form');
  return { redAgentId: f.redAgentId.value, blueAgentId: f.blueAgentId.value, targetAgentId: f.targetAgentId.value, mode: f.mode.value };
}

$('#match-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const m = await api('/api/matches', { method: 'POST', body: JSON.stringify(formValues()) });
    watch(m.id);
    refresh();
  } catch (err) { $('#flow-result').textContent = 'Error: ' + err.message; }
});

const flowBodies = {
  match: () => { const v = formValues(); if (v.mode === 'continuous') v.mode = 'standard'; return v; },
  scheduled: () => ({ cronExpression: '0 */6 * * *' }),
  monitoring: () => ({ targetAgentId: formValues().targetAgentId, intervalMinutes: 60 }),
  dataset: () => ({ minSeverity: 5.0 }),
  'fine-tune': () => ({ agentId: formValues().blueAgentId, agentType: 'blue', trainingMatchesCount: 50 }),
  'batch-evaluation': () => ({ agentCombinations: [formValues()], matchesPerCombination: 3 }),
};

document.querySelectorAll('#flows button').forEach((b) => b.addEventListener('click', async () => {
  const kind = b.dataset.flow;
  $('#flow-result').textContent = `Starting ${kind}…`;
  try {
    const r = await api('/api/kestra/trigger/' + kind, { method: 'POST', body: JSON.stringify(flowBodies[kind]()) });
    $('#flow-result').textContent = `${r.flowId}: execution ${r.executionId} (${r.state || 'CREATED'})`;
    pollExecution(r.executionId);
  } catch (err) { $('#flow-result').textContent = `${kind}: ${err.message}`; }
}));

async function pollExecution(id) {
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    try {
      const e = await api('/api/kestra/executions/' + encodeURIComponent(id));
      const state = e.state && e.state.current;
      $('#flow-result').textContent = `${e.flowId}: execution ${id} ${state}`;
      if (['SUCCESS', 'FAILED', 'KILLED', 'WARNING', 'CANCELLED'].includes(state)) { refresh(); return; }
    } catch (err) { $('#flow-result').textContent = `execution ${id}: ${err.message}`; return; }
  }
}

function describe(e) {
  const d = e.data || {};
  switch (e.type) {
    case 'attack': return `R${e.round} RED [${d.attackType}${d.mutations && d.mutations.length ? ' +' + d.mutations.join('+') : ''}] ${d.text}`;
    case 'target': return `R${e.round} TARGET ${d.refused ? '(refused) ' : ''}${d.text}${d.toolCalls && d.toolCalls.length ? ' [tools: ' + d.toolCalls.join(', ') + ']' : ''}`;
    case 'defense': return `R${e.round} BLUE ${d.action} (p=${d.attackProbability}) ${(d.reasons || []).join('; ')}`;
    case 'judgement': return `R${e.round} JUDGE ${d.outcome} / ${d.severity} — ${d.explanation} (red ${d.score.red} : blue ${d.score.blue})`;
    default: return `${e.type}${d.winner ? ' winner: ' + d.winner : ''}`;
  }
}

function addEvent(e) {
  if (liveId && e.matchId !== liveId) return;
  if (!liveId && e.type === 'match_created') liveId = e.matchId;
  const li = document.createElement('li');
  li.className = 'ev-' + e.type;
  li.dataset.type = e.type;
  li.textContent = `${e.matchId.slice(0, 14)} ${describe(e)}`;
  const feed = $('#feed');
  feed.prepend(li);
  while (feed.children.length > 300) feed.lastChild.remove();
  if (e.type === 'judgement' && e.data.score) renderScore(e.data.score, e.round);
  if (['match_completed', 'match_cancelled', 'match_failed'].includes(e.type)) refresh();
}

function renderScore(s, round) {
  $('#scoreboard').innerHTML = `<span class="red">Red ${s.red}</span><span class="blue">Blue ${s.blue}</span><span>round ${round ?? s.rounds}</span><span>attack ${s.attackSuccessRate}%</span><span>defense ${s.defenseSuccessRate}%</span><span>severity ${s.severity}</span>`;
}

let source = null;
function connect() {
  source = new EventSource('/api/events/stream');
  source.onopen = () => { $('#conn').textContent = 'live'; $('#conn').className = 'pill ok'; };
  source.onerror = () => { $('#conn').textContent = 'reconnecting…'; $('#conn').className = 'pill bad'; };
  ['match_created', 'match_started', 'round_started', 'attack', 'target', 'defense', 'judgement', 'match_paused', 'match_resumed', 'match_completed', 'match_cancelled', 'match_failed']
    .forEach((t) => source.addEventListener(t, (m) => addEvent(JSON.parse(m.data))));
}

function watch(id) {
  liveId = id;
  $('#live-id').textContent = id;
  $('#feed').innerHTML = '';
  api(`/api/matches/${id}/events?limit=300`).then((events) => events.forEach(addEvent)).catch(() => {});
  showTranscript(id);
}

['pause', 'resume', 'stop'].forEach((action) => $('#' + action).addEventListener('click', async () => {
  if (!liveId) return;
  try { await api(`/api/matches/${liveId}/${action}`, { method: 'POST' }); } catch (err) { $('#flow-result').textContent = err.message; }
  refresh();
}));

async function showTranscript(id) {
  transcriptId = id;
  $('#transcript-id').textContent = id;
  const q = new URLSearchParams();
  if ($('#f-type').value) q.set('attackType', $('#f-type').value);
  if ($('#f-outcome').value) q.set('outcome', $('#f-outcome').value);
  if ($('#f-severity').value) q.set('severity', $('#f-severity').value);
  const t = await api(`/api/matches/${id}/transcript?${q}`);
  $('#transcript').innerHTML = t.entries.map((e) => `<details><summary>Round ${e.round} · ${esc(e.attackType)} · <span class="outcome-${esc(e.outcome)}">${esc(e.outcome)}</span> · ${esc(e.severity)}</summary>${e.messages.map((m) => `<div class="turn ${esc(m.role)}"><b>${esc(m.role)}</b>: ${esc(m.content)}</div>`).join('')}</details>`).join('') || '<p class="muted">No rounds match the filters.</p>';
}
['#f-type', '#f-outcome', '#f-severity'].forEach((s) => $(s).addEventListener('change', () => transcriptId && showTranscript(transcriptId)));
$('#f-type').innerHTML += ['jailbreak', 'injection', 'confusion', 'exploit', 'tool_escalation', 'context_poisoning', 'goal_drift', 'social_engineering'].map((t) => `<option>${t}</option>`).join('');

async function refresh() {
  const [matches, board, alerts, datasets, jobs] = await Promise.all([
    api('/api/matches?limit=25'), api('/api/leaderboard'), api('/api/alerts?limit=20'), api('/api/oumi/datasets'), api('/api/oumi/fine-tune'),
  ]);
  $('#matches').innerHTML = matches.map((m) => `<tr data-id="${esc(m.id)}"><td>${esc(m.id)}</td><td>${esc(m.redAgentId)}</td><td>${esc(m.blueAgentId)}</td><td>${esc(m.targetAgentId)}</td><td>${esc(m.mode)}</td><td>${esc(m.status)}</td><td>${m.currentRound}${m.maxRounds ? '/' + m.maxRounds : ''}</td><td>${m.score.red} / ${m.score.blue}</td><td>${m.score.severity}</td><td>${esc(m.winner || '')}</td></tr>`).join('');
  document.querySelectorAll('#matches tr').forEach((tr) => tr.addEventListener('click', () => watch(tr.dataset.id)));
  $('#leaderboard').innerHTML = board.map((a) => `<tr><td>${esc(a.name)}</td><td class="${a.type === 'red' ? 'red' : 'blue'}">${esc(a.type)}</td><td>${a.version}</td><td>${a.matches}</td><td>${a.winRate}</td></tr>`).join('');
  $('#alerts').innerHTML = alerts.map((a) => `<li><b>${a.severity}</b> ${esc(a.message)} <span class="muted">${esc(a.createdAt)}</span></li>`).join('') || '<li class="muted">No alerts</li>';
  $('#datasets').innerHTML = datasets.map((d) => `<li><a href="/api/oumi/datasets/${esc(d.id)}">${esc(d.id)}</a> ${d.count} samples (${esc(d.format)}, min severity ${d.minSeverity})</li>`).join('') || '<li class="muted">No datasets</li>';
  $('#jobs').innerHTML = jobs.map((j) => `<li>${esc(j.jobId)} ${esc(j.agentId)} <b>${esc(j.status)}</b> ${Math.round(j.progress)}% ${j.metrics && j.metrics.defenseSuccessRateBefore !== undefined ? `defense ${j.metrics.defenseSuccessRateBefore}% → ${j.metrics.defenseSuccessRateAfter}%` : ''} ${esc(j.modelId || j.error || '')}</li>`).join('') || '<li class="muted">No jobs</li>';
  if (!liveId && matches.length) watch(matches[0].id);
}

loadAgents().then(refresh).catch((err) => { $('#flow-result').textContent = err.message; });
connect();
setInterval(refresh, 5000);
