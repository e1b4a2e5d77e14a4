// SPDX-License-Identifier: MIT
// The labeling page: one self-contained HTML document (no external resource), driven by the
// keyboard only — 1-9 and 0 pick a label, s skips, u undoes the last answer, ? shows or hides the
// help. Each label shows how many rows of the output have it. Log text is attacker-written: it is set with
// textContent, never parsed as HTML. The page sends the session token from its own URL in a
// header on every call; it loads nothing else.

export function renderLabelPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>logtriage label</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1d1d1f; }
  #line { font: 14px/1.5 ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; background: #f4f4f6; border-radius: 6px; padding: 1rem; min-height: 3rem; }
  #labels { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; padding: 0; list-style: none; }
  #labels li { border: 1px solid #c7c7cc; border-radius: 6px; padding: .25rem .6rem; }
  kbd { font: 13px ui-monospace, monospace; background: #e5e5ea; border-radius: 3px; padding: 0 .3rem; }
  #status { color: #6e6e73; } #error { color: #b00020; }
  .count { color: #6e6e73; font-variant-numeric: tabular-nums; }
  #help { border: 1px solid #c7c7cc; border-radius: 6px; padding: .5rem 1rem; }
</style></head>
<body>
<h1>Label log lines</h1>
<p id="status">loading…</p>
<div id="line" aria-live="polite"></div>
<p id="prediction"></p>
<ul id="labels"></ul>
<p><kbd>?</kbd>: keys</p>
<div id="help" hidden>
<h2>Keys</h2>
<dl>
<dt><kbd>1</kbd>–<kbd>9</kbd>, <kbd>0</kbd></dt><dd>give the line the first to tenth label (the number after each label: rows of the file with it)</dd>
<dt><kbd>s</kbd></dt><dd>skip the line (offered again next session)</dd>
<dt><kbd>u</kbd></dt><dd>undo the last answer of this session: its row leaves the file and its line comes back</dd>
<dt><kbd>?</kbd></dt><dd>show or hide this help</dd>
</dl>
</div>
<p id="error" role="alert"></p>
<script>
(() => {
  const token = new URLSearchParams(location.search).get('token') || '';
  const $ = (id) => document.getElementById(id);
  let state = null;
  let busy = false;
  function show(next) {
    state = next;
    $('error').textContent = '';
    const list = $('labels');
    list.replaceChildren(...next.labels.map((label, i) => {
      const li = document.createElement('li');
      const key = document.createElement('kbd');
      key.textContent = String((i + 1) % 10);
      const count = document.createElement('span');
      count.className = 'count';
      count.textContent = String(next.counts[label] ?? 0);
      li.append(key, ' ', label, ' ', count);
      li.dataset.label = label;
      return li;
    }));
    if (next.text === null) {
      $('line').textContent = '';
      $('prediction').textContent = '';
      $('status').textContent = 'All done: ' + next.labeled + ' lines labeled.';
      document.body.dataset.done = 'true';
      delete document.body.dataset.index;
    } else {
      delete document.body.dataset.done;
      $('line').textContent = next.text;
      const p = next.prediction;
      $('prediction').textContent = p
        ? 'Model: ' + p.label + ' (' + Object.entries(p.scores).map(([l, v]) => l + ' ' + v.toFixed(3)).join(', ') + ')'
        : '';
      $('status').textContent = next.labeled + ' labeled, ' + next.remaining + ' to go (' + next.mode + ' order)';
      document.body.dataset.index = String(next.index);
    }
  }
  async function call(path, body) {
    busy = true;
    try {
      const res = await fetch(path, {
        method: body ? 'POST' : 'GET',
        headers: { 'x-logtriage-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = await res.json();
      if (!res.ok) throw new Error(json.error || res.statusText);
      show(json);
    } catch (err) {
      $('error').textContent = String(err.message || err);
    } finally {
      busy = false;
    }
  }
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === '?') {
      event.preventDefault();
      $('help').hidden = !$('help').hidden;
      return;
    }
    if (busy || !state) return;
    if (event.key === 'u') {
      event.preventDefault();
      call('/api/undo', {});
      return;
    }
    if (state.text === null) return;
    if (event.key === 's') {
      event.preventDefault();
      call('/api/skip', { index: state.index });
      return;
    }
    if (/^[0-9]$/.test(event.key)) {
      const i = (Number(event.key) + 9) % 10;
      if (i < state.labels.length) {
        event.preventDefault();
        call('/api/label', { index: state.index, label: state.labels[i] });
      }
    }
  });
  call('/api/state');
})();
</script>
</body></html>
`;
}
