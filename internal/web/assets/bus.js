// steward dashboard, bus page: a live tail of a subject from the API's
// Server-Sent Events stream of bus messages (GET /v1/bus/subscribe).
'use strict';
(() => {
  const form = document.getElementById('bus-tail-form');
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const rows = $('bus-tail').tBodies[0];
  const status = $('bus-tail-status');
  const maxRows = 500;
  const fmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  let src = null;

  function td(text, cls) {
    const c = document.createElement('td');
    if (cls) c.className = cls;
    c.textContent = text;
    return c;
  }
  function show(m) {
    rows.querySelector('tr.empty')?.remove();
    const tr = document.createElement('tr');
    tr.className = 'bus-msg fresh';
    const data = m.encoding === 'base64' ? `(base64) ${m.data}` : m.data;
    const at = m.time ? new Date(m.time) : new Date();
    tr.append(td(fmt.format(at), 'nowrap'), td(m.subject, 'mono small'), td(m.type || '—'),
      td(m.seq ? String(m.seq) : '—', 'num'), td(data, 'mono small'));
    rows.prepend(tr);
    while (rows.rows.length > maxRows) rows.lastElementChild.remove();
  }
  function stop(text) {
    if (src) src.close();
    src = null;
    status.textContent = text || 'stopped';
    $('bus-tail-stop').disabled = true;
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    stop();
    const q = new URLSearchParams({ subject: $('bus-subject').value.trim() });
    if ($('bus-since').value) q.set('since', $('bus-since').value);
    const es = src = new EventSource('/v1/bus/subscribe?' + q);
    status.textContent = 'connecting…';
    $('bus-tail-stop').disabled = false;
    es.onopen = () => { status.textContent = 'following ' + q.get('subject'); };
    es.onmessage = (ev) => {
      try { show(JSON.parse(ev.data)); } catch { /* not a message */ }
    };
    es.addEventListener('error', async (ev) => {
      if (ev.data) { stop('ended: ' + JSON.parse(ev.data)); return; }
      if (es.readyState !== EventSource.CLOSED) { status.textContent = 'reconnecting…'; return; }
      // The API refused the subscription: show why.
      try {
        const res = await fetch('/v1/bus/subscribe?' + q, { credentials: 'same-origin' });
        if (res.ok) { res.body.cancel(); stop('the stream ended'); return; }
        const out = await res.json();
        stop('refused: ' + ((out.error && out.error.message) || res.statusText));
      } catch {
        stop('refused');
      }
    });
  });
  $('bus-tail-stop').addEventListener('click', () => stop());
  $('bus-tail-clear').addEventListener('click', () => rows.replaceChildren());
})();
