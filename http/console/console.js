'use strict';
// Vigil's analyst console: one page, no external assets. Reads the node's
// JSON API; the bearer token is asked when first needed and kept in this
// variable only (never in storage), so it is gone with the page.
let token = null;
const $ = id => document.getElementById(id);
const esc = s => String(s).replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
const fmt = (x, d = 3) => x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d);

// ---- requests -------------------------------------------------------------
let tokenWaiters = [];
function askToken() {
  $('token-dialog').hidden = false;
  $('token-input').value = '';
  $('token-input').focus();
  return new Promise((resolve, reject) => tokenWaiters.push({resolve, reject}));
}
$('token-form').addEventListener('submit', e => {
  e.preventDefault();
  token = $('token-input').value.trim();
  $('token-dialog').hidden = true;
  $('signed-in').textContent = token ? 'token set (this page only)' : 'not signed in';
  tokenWaiters.splice(0).forEach(w => token ? w.resolve(token) : w.reject(new Error('no token given')));
});
$('token-cancel').addEventListener('click', () => {
  $('token-dialog').hidden = true;
  tokenWaiters.splice(0).forEach(w => w.reject(new Error('no token given')));
});

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || ('HTTP ' + status));
    this.status = status;
    this.details = (body && body.details) || [];
  }
}

async function api(method, path, {body, auth = false} = {}) {
  if (auth && !token)
    await askToken();
  const headers = {};
  if (auth)
    headers.Authorization = 'Bearer ' + token;
  if (body !== undefined)
    headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await r.text();
  let data = text;
  try { data = text ? JSON.parse(text) : null; } catch (_) { /* Prometheus text */ }
  if (r.status === 401 || r.status === 403) {
    token = null;
    $('signed-in').textContent = 'token refused: ' + (data && data.error);
  }
  if (!r.ok)
    throw new ApiError(r.status, data);
  return data;
}

// ---- pages ----------------------------------------------------------------
const pages = {};
let current = null;
function show() {
  const name = (location.hash || '#overview').slice(1);
  const page = pages[name] ? name : 'overview';
  document.querySelectorAll('.page').forEach(p => { p.hidden = p.id !== 'page-' + page; });
  document.querySelectorAll('header nav a').forEach(a => a.classList.toggle('active', a.dataset.page === page));
  current = page;
  pages[page].load().catch(report);
}
function report(e) {
  const where = $(current === 'overview' ? 'history-status' : current + '-status') || $('history-status');
  if (where)
    where.textContent = 'error: ' + e.message;
}
window.addEventListener('hashchange', show);

// ---- charts (SVG drawn here) ------------------------------------------------
// Lines over time: series = [{name, values}], times = ISO strings.
function lineChart(el, times, series, unit) {
  const w = 380, h = 150, left = 44, bottom = 20, top = 8, right = 8;
  const all = series.flatMap(s => s.values).filter(v => Number.isFinite(v));
  if (times.length < 2 || !all.length) {
    el.innerHTML = '<p class="muted">collecting: a point every 10 s</p>';
    return;
  }
  const max = Math.max(...all, 1e-9) * 1.1, n = times.length;
  const x = i => left + (w - left - right) * i / (n - 1), y = v => top + (h - top - bottom) * (1 - v / max);
  let svg = `<svg viewBox="0 0 ${w} ${h}" width="100%" role="img">`;
  svg += `<line class="axis" x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}"/>`;
  for (const f of [0, 0.5, 1])
    svg += `<text x="2" y="${y(max / 1.1 * f) + 3}">${esc(shortNumber(max / 1.1 * f))}</text>`;
  svg += `<text x="${left}" y="${h - 4}">${esc(times[0].slice(11, 19))}</text><text x="${w - right - 44}" y="${h - 4}">${esc(times[n - 1].slice(11, 19))}</text>`;
  series.forEach((s, k) => {
    const d = s.values.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(Number.isFinite(v) ? v : 0).toFixed(1)}`).join('');
    svg += `<path class="line s${k}" d="${d}"><title>${esc(s.name)}</title></path>`;
  });
  svg += '</svg>';
  const legend = series.length > 1 ? '<div>' + series.map((s, k) =>
    `<svg width="12" height="8"><rect class="f${k}" width="12" height="8"/></svg> ${esc(s.name)}`).join(' &nbsp; ') + '</div>' : '';
  el.innerHTML = svg + legend + (unit ? `<div class="muted">${esc(unit)}</div>` : '');
}
function shortNumber(v) {
  return v >= 1e6 ? (v / 1e6).toFixed(1) + 'M' : v >= 1e3 ? (v / 1e3).toFixed(1) + 'k' : v >= 10 ? v.toFixed(0) : v.toFixed(2);
}

// Training (grey) against live (blue) share of each bin.
function bars(f) {
  const n = f.shares.length, w = 240, h = 40, bw = w / n, top = Math.max(...f.shares, ...f.reference_shares, 1e-9);
  let s = `<svg width="${w}" height="${h}" role="img" aria-label="${esc(f.name)}">`;
  for (let i = 0; i < n; i++) {
    const r = f.reference_shares[i] / top * h, l = f.shares[i] / top * h;
    s += `<rect class="ref" x="${i * bw + 1}" y="${h - r}" width="${bw / 2 - 1}" height="${r}"></rect>` +
         `<rect class="live" x="${i * bw + bw / 2}" y="${h - l}" width="${bw / 2 - 1}" height="${l}"></rect>`;
  }
  return s + '</svg>';
}

// ---- overview -------------------------------------------------------------
function metric(text, name) {
  const m = text.match(new RegExp('^' + name.replace(/[{}"]/g, '\\$&') + ' ([0-9.e+-]+)$', 'm'));
  return m ? parseFloat(m[1]) : 0;
}
function quantile(text, name, q) {
  const re = new RegExp('^' + name + '_bucket\\{le="([^"]+)"\\} ([0-9]+)$', 'gm');
  const b = [];
  let m;
  while ((m = re.exec(text)))
    b.push([m[1] === '+Inf' ? Infinity : parseFloat(m[1]), parseFloat(m[2])]);
  if (!b.length)
    return 0;
  const total = b[b.length - 1][1];
  for (const [le, c] of b)
    if (c >= q * total)
      return le;
  return Infinity;
}
let lastCount = null, lastDrift = null;
function drawDrift(drift) {
  const name = $('drift-window').value, st = $('drift-status'), tb = $('drift-features');
  $('label-weeks').innerHTML = '<tr><th>week of</th><th>labels</th><th>fraud</th><th>precision</th><th>recall</th></tr>' +
    (drift.label_weeks || []).map(x => `<tr><td>${esc(x.week_of)}</td><td>${x.labels}</td><td>${x.fraud}</td><td>${fmt(x.precision)}</td><td>${fmt(x.recall)}</td></tr>`).join('');
  const w = (drift.windows || []).find(x => x.window === name);
  if (!w) {
    st.textContent = `model v${drift.model_version}: ${drift.status}`;
    tb.innerHTML = '';
    return;
  }
  st.textContent = `model v${drift.model_version}: ${drift.status}, ${w.rows} decisions counted in the last ${w.window} (1 in ${drift.sample_every})` +
    (w.complete ? '' : ', window not yet complete') + `; score PSI ${fmt(w.score.psi)}`;
  tb.innerHTML = '<tr><th>feature</th><th>PSI</th><th>missing live / training</th><th>training (grey) vs live (blue)</th></tr>' +
    w.features.slice(0, 15).map(f => `<tr class="feature"><td>${esc(f.name)}</td><td class="psi${f.psi > 0.25 ? ' high' : ''}">${fmt(f.psi)}</td>` +
      `<td>${(f.missing_share * 100).toFixed(1)}% / ${(f.reference_missing_share * 100).toFixed(1)}%</td><td>${bars(f)}</td></tr>`).join('');
}
$('drift-window').addEventListener('change', () => { if (lastDrift) drawDrift(lastDrift); });

function drawShadow(text, config) {
  const panel = $('shadow-panel');
  if (!config.shadow_enabled) {
    panel.textContent = 'No shadow running (set shadow_enabled, shadow_model_version and shadow_rules under Config & rules).';
    return;
  }
  const kinds = ['approve', 'review', 'decline'];
  let rows = '';
  for (const path of ['stream', 'predict']) {
    let total = 0, same = 0;
    for (const p of kinds)
      for (const s of kinds) {
        const n = metric(text, `vigil_shadow_decisions_total{path="${path}",production="${p}",shadow="${s}"}`);
        total += n;
        if (p === s) same += n;
      }
    rows += `<tr><td>${path}</td><td>${total}</td><td>${total ? (100 * same / total).toFixed(2) + '%' : '–'}</td></tr>`;
  }
  const pr = v => `${fmt(metric(text, `vigil_shadow_precision{variant="${v}"}`))} / ${fmt(metric(text, `vigil_shadow_recall{variant="${v}"}`))}`;
  panel.innerHTML = `<p>Shadow: model ${config.shadow_model_version || '(the served one)'} with ${(config.shadow_rules || []).length} rules.</p>` +
    `<table><tr><th>path</th><th>decided</th><th>agreement with production</th></tr>${rows}</table>` +
    `<p>On labelled transactions, precision / recall of flagged: production ${pr('production')}, shadow ${pr('shadow')}</p>`;
  panel.classList.remove('muted');
}

async function loadOverview() {
  const [text, history, models, config] = await Promise.all([
    api('GET', '/metrics'), api('GET', '/metrics/history'), api('GET', '/models'), api('GET', '/config')]);
  const now = Date.now(), n = metric(text, 'vigil_records_in_total');
  if (lastCount)
    $('rate').textContent = Math.round((n - lastCount.n) / ((now - lastCount.t) / 1000));
  lastCount = {n, t: now};
  for (const d of ['approve', 'review', 'decline'])
    $(d).textContent = metric(text, 'vigil_decisions_total{decision="' + d + '"}');
  $('p99').textContent = (quantile(text, 'vigil_decision_latency_seconds', 0.99) * 1000).toFixed(2);
  $('model').textContent = 'v' + metric(text, 'vigil_model_version');
  $('paused').textContent = metric(text, 'vigil_source_paused') ? 'yes' : 'no';
  $('dlq').textContent = metric(text, 'vigil_dlq_records_total');

  const s = history.samples, t = s.map(x => x.time);
  $('history-status').textContent = `(${s.length} points, one every ${history.interval_s} s)`;
  lineChart($('chart-throughput'), t, [{name: 'records/s', values: s.map(x => x.records_per_s)}]);
  lineChart($('chart-decisions'), t, ['approve', 'review', 'decline'].map(k => ({name: k, values: s.map(x => x[k] / x.seconds)})));
  lineChart($('chart-fraud-rate'), t, [{name: 'flagged %', values: s.map(x => {
    const all = x.approve + x.review + x.decline;
    return all ? 100 * (x.review + x.decline) / all : 0;
  })}]);
  lineChart($('chart-latency'), t, [{name: 'p50', values: s.map(x => x.p50_ms)}, {name: 'p99', values: s.map(x => x.p99_ms)}],
            'bucket upper bounds of each 10-s interval');
  lineChart($('chart-paused'), t, [{name: 'paused %', values: s.map(x => 100 * x.paused_share)}]);
  lineChart($('chart-lag'), t, [{name: 'lag', values: s.map(x => x.lag_records)}], 'records behind the input topic (0 embedded)');
  drawShadow(text, config.config);
  if (models.drift) {
    lastDrift = models.drift;
    drawDrift(models.drift);
  }
}
pages.overview = {load: loadOverview};

// ---- review queue -----------------------------------------------------------
let queueItems = [], queueNext = null, selected = null;
function queueQuery(before) {
  const form = new FormData($('queue-filter')), q = new URLSearchParams();
  for (const [k, v] of form.entries())
    if (String(v).trim() !== '')
      q.set(k, String(v).trim());
  if (before)
    q.set('before', before);
  return q.toString();
}
function badge(kind) {
  return `<span class="badge ${esc(kind)}">${esc(kind)}</span>`;
}
function labelText(label) {
  return label ? badge(label.is_fraud ? 'fraud' : 'legitimate') : '<span class="muted">open</span>';
}
function drawQueue() {
  $('queue-table').innerHTML = '<tr><th>time</th><th>decision</th><th>score</th><th>user</th><th>merchant</th><th>reasons</th><th>label</th></tr>' +
    queueItems.map(i => `<tr class="clickable${i.transaction_id === selected ? ' selected' : ''}" data-id="${esc(i.transaction_id)}">` +
      `<td>${esc(i.event_time.slice(5, 16).replace('T', ' '))}</td><td>${badge(i.decision)}</td><td>${fmt(i.probability)}</td>` +
      `<td>${esc(i.user_id)}</td><td>${esc(i.merchant_id)}</td>` +
      `<td>${esc(i.reasons.slice(0, 2).map(r => r.rule ? 'rule ' + r.rule : r.feature).join(', '))}</td><td>${labelText(i.label)}</td></tr>`).join('');
  $('queue-more').hidden = queueNext === null;
}
async function loadQueue(more = false) {
  const page = await api('GET', '/review?' + queueQuery(more ? queueNext : 0), {auth: true});
  queueItems = more ? queueItems.concat(page.items) : page.items;
  queueNext = page.next_before;
  $('queue-status').textContent = `${page.matching} matching of ${page.queued} queued (the newest ${page.capacity} flagged decisions are kept)`;
  drawQueue();
}
$('queue-filter').addEventListener('submit', e => { e.preventDefault(); loadQueue().catch(report); });
$('queue-more').addEventListener('click', () => loadQueue(true).catch(report));
$('queue-table').addEventListener('click', e => {
  const row = e.target.closest('tr[data-id]');
  if (row)
    openItem(row.dataset.id).catch(report);
});
setInterval(() => {
  if (current === 'queue' && $('queue-live').checked && token)
    loadQueue().catch(report);
}, 5000);

// Each reason as a bar: model reasons by TreeSHAP contribution (red towards
// fraud, green away), rule hits in purple.
function reasonsChart(reasons) {
  if (!reasons.length)
    return '<p class="muted">no reasons recorded</p>';
  const w = 420, row = 20, labelW = 170, max = Math.max(...reasons.map(r => Math.abs(r.contribution || 0)), 1e-9);
  const mid = labelW + (w - labelW) / 2, half = (w - labelW) / 2 - 4;
  let s = `<svg id="reasons-chart" width="${w}" height="${reasons.length * row + 4}" role="img" aria-label="reasons">`;
  reasons.forEach((r, i) => {
    const y = i * row + 2;
    if (r.rule) {
      s += `<text x="0" y="${y + 13}">rule ${esc(r.rule)}</text><rect class="rulebar" x="${labelW}" y="${y + 3}" width="${w - labelW - 4}" height="12"></rect>` +
           `<text x="${labelW + 4}" y="${y + 13}" style="fill:#fff">${esc(r.action)}${r.score_delta ? ' ' + fmt(r.score_delta, 2) : ''}</text>`;
      return;
    }
    const len = Math.abs(r.contribution) / max * half, x = r.contribution >= 0 ? mid : mid - len;
    s += `<text x="0" y="${y + 13}">${esc(r.feature)} = ${fmt(r.value, 2)}</text>` +
         `<rect class="${r.contribution >= 0 ? 'pos' : 'neg'}" x="${x}" y="${y + 3}" width="${Math.max(len, 1)}" height="12"><title>${fmt(r.contribution, 4)}</title></rect>`;
  });
  return s + `<line class="axis" x1="${mid}" y1="0" x2="${mid}" y2="${reasons.length * row + 4}"/></svg>`;
}
async function openItem(id) {
  selected = id;
  drawQueue();
  const d = await api('GET', '/review/' + encodeURIComponent(id), {auth: true}), it = d.item;
  const far = f => f.value !== null && f.typical !== null && Math.abs(f.value - f.typical) > Math.max(1e-9, Math.abs(f.typical)) * 1.5;
  $('queue-detail').hidden = false;
  $('queue-detail').innerHTML =
    `<h3>${esc(it.transaction_id)} ${badge(it.decision)}</h3>` +
    `<p>score ${fmt(it.probability)} · model v${it.model_version} · ${esc(it.event_time)}<br>user <b>${esc(it.user_id)}</b> · merchant <b>${esc(it.merchant_id)}</b></p>` +
    `<p id="item-label">label: ${labelText(it.label)}${it.label ? ' <span class="muted">by ' + esc(it.label.source || '?') + ' at ' + esc(it.label.label_time) + '</span>' : ''}</p>` +
    `<p><button id="label-fraud" type="button">Fraud</button> <button id="label-legit" type="button">Legitimate</button> <span id="label-status" class="muted"></span></p>` +
    `<h4>Why: rule hits and TreeSHAP reasons</h4>${reasonsChart(it.reasons)}` +
    `<h4>Features against the user's typical values</h4><p class="muted">typical = median of the user's other recent decisions on this node (up to ${d.user_history_kept})</p>` +
    `<table id="item-features"><tr><th>feature</th><th>this</th><th>typical</th><th>of</th></tr>` +
    d.features.map(f => `<tr${far(f) ? ' class="far"' : ''}><td>${esc(f.name)}</td><td>${fmt(f.value, 2)}</td><td>${fmt(f.typical, 2)}</td><td>${f.typical_of}</td></tr>`).join('') + '</table>' +
    `<h4>The user's recent decisions</h4><table id="item-history"><tr><th>time</th><th>merchant</th><th>score</th><th>decision</th></tr>` +
    (d.user_history.length ? d.user_history.map(h => `<tr><td>${esc(h.event_time.slice(0, 19).replace('T', ' '))}</td><td>${esc(h.merchant_id)}</td><td>${fmt(h.probability)}</td><td>${badge(h.decision)}</td></tr>`).join('')
                           : '<tr><td colspan="4" class="muted">none seen recently</td></tr>') + '</table>';
  $('label-fraud').addEventListener('click', () => label(id, true));
  $('label-legit').addEventListener('click', () => label(id, false));
}
async function label(id, isFraud) {
  $('label-status').textContent = 'sending…';
  try {
    const r = await api('POST', '/feedback', {auth: true, body: {transaction_id: id, is_fraud: isFraud, source: 'analyst'}});
    await openItem(id);
    $('label-status').textContent = r.accepted ? `stored${r.joined ? ', joined to its scored vector' : ''}` : 'not accepted';
    await loadQueue();
  } catch (e) {
    $('label-status').textContent = 'error: ' + e.message;
  }
}
pages.queue = {load: () => loadQueue()};

// ---- models -----------------------------------------------------------------
let shownModel = null;
async function loadModels() {
  const m = await api('GET', '/models');
  $('models-status').textContent = `serving v${m.serving_version}; retraining ${m.retraining.running ? 'running' : 'idle'}, ` +
    `${m.retraining.labelled_rows} labelled rows`;
  const list = m.models.slice().sort((a, b) => b.version - a.version);
  $('models-table').innerHTML = '<tr><th>version</th><th>stage</th><th>PR-AUC</th><th>precision</th><th>recall</th><th>threshold</th><th>registered</th><th></th></tr>' +
    list.map(x => `<tr class="clickable${x.version === shownModel ? ' selected' : ''}" data-version="${x.version}"><td>v${x.version}</td><td>${badge(x.stage)}</td>` +
      `<td>${fmt(x.metrics && x.metrics.pr_auc, 4)}</td><td>${fmt(x.metrics && x.metrics.precision, 4)}</td><td>${fmt(x.metrics && x.metrics.recall, 4)}</td>` +
      `<td>${fmt(x.threshold)}</td><td>${esc(x.registered_at || '')}</td>` +
      `<td>${x.version === m.serving_version ? '<span class="muted">served</span>' : `<button class="promote" data-version="${x.version}">Promote</button>`}</td></tr>`).join('');
  if (shownModel === null && list.length)
    showModelCharts(m.serving_version || list[0].version);
  const runs = m.retraining.runs || [];
  $('runs-table').innerHTML = '<tr><th>finished</th><th>trigger</th><th>outcome</th><th>challenger</th><th>challenger PR-AUC</th><th>champion PR-AUC</th><th>summary</th></tr>' +
    (runs.length ? runs.slice().reverse().map(r => `<tr><td>${esc(r.finished_at)}</td><td>${esc(r.trigger)}</td><td>${badge(r.outcome)}</td><td>${r.version ? 'v' + r.version : '–'}</td>` +
      `<td>${fmt(r.challenger_pr_auc, 4)}</td><td>${fmt(r.champion_pr_auc, 4)}</td><td>${esc(r.summary)}</td></tr>`).join('')
                 : '<tr><td colspan="7" class="muted">no retraining run has finished since this node started</td></tr>');
}
function showModelCharts(version) {
  shownModel = version;
  $('model-charts').innerHTML = `<figure><figcaption>v${version}: precision against recall on its test slice</figcaption><img alt="PR curve" src="/models/${version}/pr_curve.svg"></figure>` +
    `<figure><figcaption>v${version}: confusion matrix at its threshold</figcaption><img alt="confusion matrix" src="/models/${version}/confusion.svg"></figure>`;
  document.querySelectorAll('#models-table tr[data-version]').forEach(r => r.classList.toggle('selected', Number(r.dataset.version) === version));
}
$('models-table').addEventListener('click', async e => {
  const button = e.target.closest('button.promote');
  if (button) {
    const v = Number(button.dataset.version);
    if (!confirm(`Promote model v${v} to production? Every scorer (every node of a cluster) switches to it.`))
      return;
    try {
      await api('POST', `/models/${v}/promote`, {auth: true});
      $('models-status').textContent = `v${v} promoted`;
      await loadModels();
    } catch (err) { $('models-status').textContent = 'promotion refused: ' + err.message; }
    return;
  }
  const row = e.target.closest('tr[data-version]');
  if (row)
    showModelCharts(Number(row.dataset.version));
});
pages.models = {load: loadModels};

// ---- config and rules -------------------------------------------------------
let loadedConfig = null;
function fieldInput(name, value, restartOnly) {
  const id = 'cfg-' + name, disabled = restartOnly ? ' disabled' : '';
  if (typeof value === 'boolean')
    return `<select id="${id}" name="${esc(name)}"${disabled}><option${value ? ' selected' : ''}>true</option><option${value ? '' : ' selected'}>false</option></select>`;
  if (value !== null && typeof value === 'object')
    return `<textarea id="${id}" name="${esc(name)}" rows="${Math.min(12, 2 + JSON.stringify(value, null, 1).split('\n').length)}"${disabled}>${esc(JSON.stringify(value, null, 1))}</textarea>`;
  return `<input id="${id}" name="${esc(name)}" value="${esc(value)}"${disabled}>`;
}
async function loadConfig() {
  const c = await api('GET', '/config', {auth: !!token});
  loadedConfig = c;
  $('config-version').textContent = c.version;
  $('config-status').textContent = c.redacted ? '(paths and hosts redacted: set a token to see them)' : '';
  const restart = new Set(c.restart_only_fields || []);
  $('config-form').innerHTML = Object.keys(c.config).sort().map(name =>
    `<div class="field" data-field="${esc(name)}"><label for="cfg-${esc(name)}">${esc(name)}${restart.has(name) ? ' <span class="muted">(restart)</span>' : ''}</label>` +
    `${fieldInput(name, c.config[name], restart.has(name) || name === 'auth_token')}<span class="field-error" id="err-${esc(name)}"></span></div>`).join('');
  const rules = c.config.rules || [];
  $('rules-table').innerHTML = '<tr><th>id</th><th>action</th><th>when</th><th>description</th></tr>' +
    (rules.length ? rules.map(r => `<tr><td>${esc(r.id)}</td><td>${badge(r.action)}${r.action === 'adjust' ? ' ' + fmt(r.score_delta, 2) : ''}</td><td><code>${esc(r.when)}</code></td><td>${esc(r.description || '')}</td></tr>`).join('')
                  : '<tr><td colspan="4" class="muted">no rules: the model decides alone</td></tr>');
  $('config-history').innerHTML = '<tr><th>version</th><th>source</th><th></th></tr>' +
    c.history.slice().reverse().map(h => `<tr><td>${h.version}</td><td>${esc(h.source)}</td><td>${h.version === c.version ? '<span class="muted">in force</span>' : `<button class="rollback" data-version="${h.version}">Roll back to this</button>`}</td></tr>`).join('');
}
// The fields whose input differs from the loaded config; a textarea that is
// not JSON is an error shown at once (nothing is sent).
function changedFields() {
  const patch = {}, local = [];
  for (const [name, old] of Object.entries(loadedConfig.config)) {
    const el = $('cfg-' + name);
    if (!el || el.disabled)
      continue;
    let value = el.value;
    if (typeof old === 'boolean')
      value = value === 'true';
    else if (typeof old === 'number')
      value = value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
    else if (old !== null && typeof old === 'object') {
      try { value = JSON.parse(value); } catch (e) { local.push({field: name, reason: 'not JSON: ' + e.message}); continue; }
    }
    if (JSON.stringify(value) !== JSON.stringify(old))
      patch[name] = value;
  }
  return {patch, local};
}
function showFieldErrors(details, prefix) {
  document.querySelectorAll('.field-error').forEach(e => { e.textContent = ''; });
  for (const d of details) {
    const key = String(d.field).split(/[.[]/)[0];
    const el = $(prefix + key) || $(prefix === 'err-' ? 'config-errors' : 'bt-status');
    el.textContent += (el.textContent ? '; ' : '') + (d.field !== key ? d.field + ': ' : '') + d.reason;
  }
}
$('config-save').addEventListener('click', async () => {
  const box = $('config-errors');
  box.hidden = true;
  const {patch, local} = changedFields();
  if (local.length) {
    showFieldErrors(local, 'err-');
    return;
  }
  if (!Object.keys(patch).length) {
    $('config-status').textContent = 'nothing changed';
    return;
  }
  try {
    const c = await api('PATCH', '/config', {auth: true, body: patch});
    await loadConfig();
    $('config-status').textContent = `saved as version ${c.version}`;
  } catch (e) {
    box.hidden = false;
    box.textContent = `${e.message}: ` + e.details.map(d => `${d.field}: ${d.reason}`).join('; ');
    showFieldErrors(e.details, 'err-');
  }
});
$('config-history').addEventListener('click', async e => {
  const button = e.target.closest('button.rollback');
  if (!button || !confirm(`Roll the config back to version ${button.dataset.version}? It becomes a new version.`))
    return;
  try {
    await api('POST', '/config/rollback/' + button.dataset.version, {auth: true});
    await loadConfig();
  } catch (err) { $('config-status').textContent = 'rollback refused: ' + err.message; }
});
pages.config = {load: loadConfig};

// ---- backtest ---------------------------------------------------------------
async function loadBacktest() {
  const [m, c] = await Promise.all([api('GET', '/models'), api('GET', '/config')]);
  $('bt-model').innerHTML = m.models.slice().sort((a, b) => b.version - a.version)
    .map(x => `<option value="${x.version}">v${x.version} (${esc(x.stage)})</option>`).join('');
  if (!$('bt-rules').value)
    $('bt-rules').value = JSON.stringify(c.config.rules || [], null, 1);
}
function sideBySide(r) {
  const p = r.production, c = r.candidate;
  const row = (name, f) => `<tr><td>${name}</td><td>${f(p)}</td><td>${f(c)}</td></tr>`;
  const pr = k => s => `${fmt(s[k].precision)} / ${fmt(s[k].recall)}`;
  return `<p>${r.rows} decisions replayed (${r.labelled} labelled), ${esc(r.first_event_time || '–')} to ${esc(r.last_event_time || '–')}</p>` +
    '<table id="bt-table"><tr><th></th><th>production</th><th>candidate</th></tr>' +
    row('model', s => 'v' + s.model_version) + row('rules', s => s.rules) +
    row('PR-AUC', s => fmt(s.pr_auc, 4)) + row('flagged precision / recall', pr('flagged')) +
    row('declined precision / recall', pr('declined')) +
    row('approve / review / decline', s => `${s.decisions.approve} / ${s.decisions.review} / ${s.decisions.decline}`) +
    row('alerts per day (mean, max)', s => `${fmt(s.alerts_per_day.mean, 1)}, ${s.alerts_per_day.max}`) +
    row('rule hits', s => esc(Object.entries(s.rule_hits).map(([k, v]) => `${k}: ${v}`).join(', ') || '–')) + '</table>' +
    `<p>Decisions changed: <b>${r.changes.changed}</b> of ${r.changes.rows} ` +
    esc(Object.entries(r.changes.by_outcome).map(([k, v]) => `${k} ${v}`).join(', ')) + '</p>';
}
$('backtest-form').addEventListener('submit', async e => {
  e.preventDefault();
  showFieldErrors([], 'bt-err-');
  let rules;
  try { rules = JSON.parse($('bt-rules').value || '[]'); } catch (err) {
    $('bt-err-rules').textContent = 'not JSON: ' + err.message;
    return;
  }
  const rows = Number($('bt-rows').value);
  $('bt-status').textContent = 'replaying the log…';
  try {
    const r = await api('POST', '/backtest', {auth: true, body: {model: Number($('bt-model').value), rules, rows: Number.isFinite(rows) ? rows : $('bt-rows').value}});
    $('bt-status').textContent = 'done';
    $('bt-result').innerHTML = sideBySide(r);
  } catch (err) {
    $('bt-status').textContent = 'refused: ' + err.message;
    showFieldErrors(err.details, 'bt-err-');
  }
});
pages.backtest = {load: loadBacktest};

// ---- start --------------------------------------------------------------------
show();
setInterval(() => { if (current === 'overview') loadOverview().catch(report); }, 2000);
