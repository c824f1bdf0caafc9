// steward dashboard: live updates and actions over steward's own API.
// The pages are rendered on the server; this script swaps in the parts that
// change when an event arrives (Server-Sent Events), streams a service's
// output, and performs actions with the session's CSRF token.
'use strict';
(() => {
  const body = document.body;
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  function toLogin() {
    location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search);
  }

  // api calls the API with the session cookie and, for a state-changing
  // request, the CSRF token; it returns the decoded answer or throws an
  // Error carrying the API's message.
  async function api(method, path, data) {
    const opts = { method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
    if (method !== 'GET') opts.headers['X-CSRF-Token'] = csrf;
    if (data !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(data);
    }
    const res = await fetch(path, opts);
    if (res.status === 401) { toLogin(); throw new Error('Your session ended: log in again.'); }
    const type = res.headers.get('Content-Type') || '';
    const out = res.status === 204 ? null : type.includes('json') ? await res.json() : await res.text();
    if (!res.ok) {
      const e = new Error((out && out.error && out.error.message) || res.statusText);
      e.details = out && out.error && out.error.details;
      throw e;
    }
    return out;
  }

  // Toasts.
  function toast(msg, kind, details) {
    const box = $('#toasts');
    if (!box) return;
    const t = document.createElement('div');
    t.className = 'toast' + (kind ? ' ' + kind : '');
    t.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    t.textContent = msg;
    if (details && details.length) {
      const ul = document.createElement('ul');
      for (const d of details) {
        const li = document.createElement('li');
        li.textContent = `${d.file}:${d.line}:${d.col}: ${d.message}`;
        ul.append(li);
      }
      t.append(ul);
    }
    box.append(t);
    setTimeout(() => t.remove(), kind === 'error' ? 9000 : 4000);
  }
  const fail = (err) => toast(err.message, 'error', err.details);

  // openDialog shows a modal dialog and resolves with its form's values
  // when confirmed, or null.
  function openDialog(dlg) {
    return new Promise((resolve) => {
      const form = $('form', dlg);
      let value = null;
      const onSubmit = (e) => {
        const ok = e.submitter && e.submitter.value === 'ok';
        value = ok ? new FormData(form) : null;
      };
      form.addEventListener('submit', onSubmit);
      dlg.addEventListener('close', function done() {
        dlg.removeEventListener('close', done);
        form.removeEventListener('submit', onSubmit);
        resolve(value);
      });
      dlg.showModal();
      const first = $('input[type="text"], select, .dlg-ok', dlg);
      if (first) first.focus();
    });
  }

  // confirm asks for a yes with the page's confirmation dialog.
  async function confirmAction({ title, detail, ok, danger, extra }) {
    const dlg = $('#confirm-dialog');
    $('.dlg-title', dlg).textContent = title;
    $('.dlg-detail', dlg).textContent = detail || '';
    const okBtn = $('.dlg-ok', dlg);
    okBtn.textContent = ok || 'Confirm';
    okBtn.classList.toggle('danger', !!danger);
    okBtn.classList.toggle('primary', !danger);
    const ex = $('.dlg-extra', dlg);
    ex.replaceChildren(...(extra ? [extra] : []));
    return (await openDialog(dlg)) !== null;
  }

  // Live regions: the page is re-rendered on the server and each element
  // marked data-live is swapped for its new version.
  let refreshing = false, again = false, timer = null, last = 0, paused = false, missed = 0;

  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const res = await fetch(location.pathname + location.search, {
        credentials: 'same-origin', headers: { 'X-Steward-Partial': '1' },
      });
      if (res.redirected && new URL(res.url).pathname === '/login') { toLogin(); return; }
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const seen = maxEventId();
      for (const el of $$('[data-live][id]', doc)) {
        const cur = document.getElementById(el.id);
        if (cur) cur.replaceWith(document.adoptNode(el));
      }
      afterSwap(seen);
    } catch (err) {
      // The stream's reconnect brings the next refresh.
    } finally {
      refreshing = false;
      last = Date.now();
      if (again) { again = false; schedule(); }
    }
  }

  // schedule refreshes soon, at most about twice a second however many
  // events arrive.
  function schedule() {
    if (paused) { missed++; showMissed(); return; }
    if (timer) return;
    timer = setTimeout(() => { timer = null; refresh(); }, Math.max(120, 500 - (Date.now() - last)));
  }

  function maxEventId() {
    return Math.max(0, ...$$('tr[data-id]').map((tr) => +tr.dataset.id));
  }

  // Rows of events that arrived in the last few seconds stay highlighted
  // across swaps.
  const fresh = new Map();
  function afterSwap(seen) {
    const now = Date.now();
    for (const [id, t] of fresh) if (now - t > 2500) fresh.delete(id);
    for (const tr of $$('tr[data-id]')) {
      const id = +tr.dataset.id;
      if (seen > 0 && id > seen && !fresh.has(id)) fresh.set(id, now);
      if (fresh.has(id)) tr.classList.add('fresh');
    }
    const meta = $('#live-meta');
    const badge = $('#nav-firing');
    if (meta && badge) {
      const n = +meta.dataset.firing;
      badge.textContent = n;
      badge.hidden = !(n > 0);
    }
    if (meta && meta.dataset.refresh !== undefined) body.dataset.refresh = meta.dataset.refresh;
    applyFilters();
    tick();
  }

  // The event stream: each event that concerns the page refreshes it.
  const liveTypes = (body.dataset.liveTypes || '').split(',').filter(Boolean);
  const liveService = body.dataset.liveService || '';
  const liveEl = $('#live');

  function setLive(state, text) {
    if (!liveEl) return;
    liveEl.dataset.state = state;
    $('.live-text', liveEl).textContent = text;
  }

  // Browsers allow few connections to one host over HTTP/1.1, and each open
  // page holds one or two streams: a page hidden for a while lets go of
  // them, and takes them up again (and refreshes) when it is shown.
  let es = null, retry = null;
  const streams = []; // {stop, start} of the page's other streams
  function stream() {
    if (!liveEl || es) return;
    clearTimeout(retry);
    const q = new URLSearchParams({ follow: '1', after: body.dataset.lastEvent || '0' });
    if (liveService) q.set('service', liveService);
    const src = new EventSource('/v1/events?' + q);
    es = src;
    src.onopen = () => setLive('live', 'Live');
    src.onmessage = (m) => {
      if (m.lastEventId) body.dataset.lastEvent = m.lastEventId;
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (liveTypes.includes('*') || liveTypes.includes(ev.type)) schedule();
    };
    src.onerror = async () => {
      setLive('reconnecting', 'Reconnecting…');
      if (src.readyState !== EventSource.CLOSED) return; // the browser retries
      if (es === src) es = null;
      // The server refused the stream: find out whether the session ended.
      try {
        const res = await fetch('/v1/info', { credentials: 'same-origin' });
        if (res.status === 401) { toLogin(); return; }
      } catch { /* steward is down: keep trying */ }
      retry = setTimeout(stream, 3000);
    };
  }
  let hiddenTimer = null;
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      hiddenTimer = setTimeout(() => {
        if (es) { es.close(); es = null; }
        clearTimeout(retry);
        for (const st of streams) st.stop();
        setLive('paused', 'Paused');
      }, 15000);
      return;
    }
    clearTimeout(hiddenTimer);
    if (!es && liveEl && liveEl.dataset.state === 'paused') {
      stream();
      for (const st of streams) st.start();
      schedule();
    }
  });

  // Resource figures are samples, not events, and runs publish none:
  // refresh them now and then while the page is visible. A refresh may
  // change the period (a run page stops once its run has ended).
  (function poll() {
    const every = +body.dataset.refresh || 0;
    setTimeout(() => { if (every > 0 && !document.hidden) schedule(); poll(); }, (every || 1) * 1000);
  })();

  // Durations shown as "3m 12s" keep counting locally.
  function dur(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  }
  function tick() {
    const now = Date.now();
    for (const t of $$('time[data-since], time[data-ago]')) {
      const at = Date.parse(t.getAttribute('datetime'));
      if (!isNaN(at)) t.textContent = dur(now - at);
    }
  }
  setInterval(tick, 1000);

  // Filters: a text box hides the rows of its table that do not contain
  // every word typed; a state chip fills the box.
  function applyFilters() {
    for (const input of $$('input[data-filter]')) {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      const rows = $$(input.dataset.filter).filter((tr) => !tr.classList.contains('empty'));
      let shown = 0;
      for (const tr of rows) {
        const text = (tr.dataset.search || tr.textContent).toLowerCase();
        const ok = words.every((w) => text.includes(w));
        tr.hidden = !ok;
        if (ok) shown++;
      }
      const table = rows.length ? rows[0].closest('table') : null;
      const none = table && table.parentElement ? $('.no-match', table.parentElement) : null;
      if (none) none.hidden = shown > 0 || rows.length === 0;
      for (const b of $$('[data-filter-value]')) {
        b.setAttribute('aria-pressed', String(input.value.trim() === b.dataset.filterValue));
      }
    }
  }
  document.addEventListener('input', (e) => {
    if (e.target.matches('input[data-filter]')) {
      applyFilters();
      const u = new URL(location.href);
      if (e.target.value) u.searchParams.set('q', e.target.value); else u.searchParams.delete('q');
      history.replaceState(null, '', u);
    }
  });

  // Actions.
  document.addEventListener('click', async (e) => {
    const chip = e.target.closest('[data-filter-value]');
    if (chip) {
      const input = $('input[data-filter]');
      input.value = input.value.trim() === chip.dataset.filterValue ? '' : chip.dataset.filterValue;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      return;
    }
    const b = e.target.closest('button[data-action]');
    if (b && !b.disabled) {
      e.preventDefault();
      if (b.dataset.confirm && !(await confirmAction({
        title: b.dataset.confirm, detail: b.dataset.detail, ok: b.dataset.ok, danger: 'danger' in b.dataset,
      }))) return;
      b.setAttribute('aria-busy', 'true');
      b.disabled = true;
      try {
        const out = await api(b.dataset.method || 'POST', b.dataset.action);
        toast(applied(out) || b.dataset.done || 'Done');
        // A run's button leads to the run's page.
        if (b.dataset.go && out && out.id) { location.href = b.dataset.go + out.id; return; }
      } catch (err) {
        fail(err);
      } finally {
        b.removeAttribute('aria-busy');
        b.disabled = false;
        refresh();
      }
      return;
    }
    const ack = e.target.closest('button[data-ack]');
    if (ack) return acknowledge(ack);
    const sil = e.target.closest('button[data-silence]');
    if (sil) return silence(sil);
    const rb = e.target.closest('button[data-rollback]');
    if (rb) return rollback(rb);
  });

  // applied describes what applying a configuration did, for a reload's
  // or a rollback's answer.
  function applied(out) {
    if (!out || typeof out.version !== 'number' || !out.diff) return '';
    const d = out.diff, parts = [];
    if (d.added && d.added.length) parts.push('added ' + d.added.join(', '));
    if (d.changed && d.changed.length) parts.push('restarted ' + d.changed.join(', '));
    if (d.removed && d.removed.length) parts.push('removed ' + d.removed.join(', '));
    return `Applied as version ${out.version}` + (parts.length ? ': ' + parts.join('; ') : ': no service changed');
  }

  async function acknowledge(b) {
    const dlg = $('#ack-dialog');
    $('.dlg-detail', dlg).textContent = b.dataset.what;
    $('#ack-comment', dlg).value = '';
    const form = await openDialog(dlg);
    if (!form) return;
    try {
      const a = await api('POST', `/v1/alerts/${b.dataset.ack}/ack`, { comment: form.get('comment') || '' });
      toast(`Acknowledged: ${a.rule} · ${a.subject}`);
    } catch (err) { fail(err); }
    refresh();
  }

  async function silence(b) {
    const dlg = $('#silence-dialog');
    for (const k of ['rule', 'subject', 'severity']) $(`[name="${k}"]`, dlg).value = b.dataset[k] || '';
    $('[name="comment"]', dlg).value = '';
    const form = await openDialog(dlg);
    if (!form) return;
    const matchers = {};
    for (const k of ['rule', 'subject', 'severity']) {
      const v = (form.get(k) || '').trim();
      if (v && v !== '*') matchers[k] = v;
    }
    if (!Object.keys(matchers).length) matchers.rule = '*';
    try {
      await api('POST', '/v1/silences', { matchers, duration: form.get('duration'), comment: form.get('comment') || '' });
      toast('Silenced for ' + $('#sil-duration option:checked', dlg).textContent);
    } catch (err) { fail(err); }
    refresh();
  }

  async function rollback(b) {
    const n = b.dataset.rollback, cur = b.dataset.current;
    const pre = document.createElement('pre');
    pre.className = 'code diff';
    pre.textContent = 'Loading the difference…';
    api('GET', `/v1/config/diff?from=${cur}&to=${n}`).then((text) => {
      pre.replaceChildren();
      const lines = String(text).replace(/\n$/, '').split('\n');
      for (const l of lines) {
        const s = document.createElement('span');
        s.className = l.startsWith('+++') || l.startsWith('---') ? 'd-meta' : l.startsWith('@@') ? 'd-hunk'
          : l.startsWith('+') ? 'd-add' : l.startsWith('-') ? 'd-del' : 'd-ctx';
        s.textContent = l;
        pre.append(s, '\n');
      }
      if (!text) pre.textContent = 'The two versions are the same.';
    }, (err) => { pre.textContent = err.message; });
    const ok = await confirmAction({
      title: `Roll back to version ${n}?`,
      detail: `Version ${n} is applied again as a new version: services it changes restart, ones it adds start, ones it removes stop. Changes from the current version ${cur}:`,
      ok: `Roll back to ${n}`, danger: true, extra: pre,
    });
    if (!ok) return;
    b.setAttribute('aria-busy', 'true');
    try {
      toast(applied(await api('POST', `/v1/config/rollback/${n}`)));
    } catch (err) { fail(err); }
    b.removeAttribute('aria-busy');
    refresh();
  }

  // Events page: selects apply at once; Pause holds the list still.
  document.addEventListener('change', (e) => {
    if (e.target.matches('select[data-autosubmit]')) e.target.form.submit();
  });
  const pauseBtn = $('#events-pause');
  function showMissed() {
    const p = $('#events-pending');
    if (!p) return;
    p.hidden = missed === 0;
    p.textContent = `${missed} new ${missed === 1 ? 'event' : 'events'} held`;
  }
  if (pauseBtn) {
    pauseBtn.addEventListener('click', () => {
      paused = !paused;
      pauseBtn.setAttribute('aria-pressed', String(paused));
      pauseBtn.textContent = paused ? 'Resume' : 'Pause';
      if (!paused) { const had = missed; missed = 0; showMissed(); if (had) schedule(); }
    });
  }

  // Output of a service: the last lines, then each new one as it comes,
  // from the API's NDJSON log stream; data-base is the proxy route of
  // another node of the fleet, whose service it is.
  const logs = $('#logs');
  if (logs) tail(logs);

  function tail(el) {
    const status = $('#log-status');
    const pause = $('#log-pause');
    const maxLines = 3000;
    let held = [], hold = false, first = true;
    const fmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

    function line(l) {
      const div = document.createElement('div');
      div.className = 'line ' + (l.stream === 'stderr' ? 'stderr' : 'stdout');
      const t = document.createElement('time');
      t.dateTime = l.time;
      t.textContent = fmt.format(new Date(l.time));
      const s = document.createElement('span');
      s.className = 'text';
      s.textContent = l.text;
      div.append(t, s);
      return div;
    }
    function append(lines, fresh) {
      if (!lines.length) return;
      const stick = el.scrollTop + el.clientHeight >= el.scrollHeight - 24;
      const frag = document.createDocumentFragment();
      for (const l of lines) {
        if (l.missed) {
          const m = document.createElement('div');
          m.className = 'line missed';
          m.textContent = `… ${l.missed} lines skipped`;
          frag.append(m);
        }
        const d = line(l);
        if (fresh) d.classList.add('fresh');
        frag.append(d);
      }
      $('.logs-empty', el)?.remove();
      el.append(frag);
      while (el.childElementCount > maxLines) el.firstElementChild.remove();
      if (stick) el.scrollTop = el.scrollHeight;
    }

    pause.addEventListener('click', () => {
      hold = !hold;
      pause.setAttribute('aria-pressed', String(hold));
      pause.textContent = hold ? 'Resume' : 'Pause';
      if (!hold) { append(held, true); held = []; }
    });
    $('#log-clear').addEventListener('click', () => el.replaceChildren());
    $('#log-wrap').addEventListener('change', (e) => el.classList.toggle('wrap', e.target.checked));

    let ctrl = null;
    streams.push({
      stop: () => { if (ctrl) ctrl.abort(); ctrl = null; },
      start: () => { if (!ctrl) connect(); },
    });
    async function connect() {
      const mine = ctrl = new AbortController();
      try {
        const res = await fetch(`${el.dataset.base || ''}/v1/services/${encodeURIComponent(el.dataset.service)}/logs?n=${el.dataset.lines}&follow=1`, {
          credentials: 'same-origin', headers: { 'Accept': 'application/x-ndjson' }, signal: mine.signal,
        });
        if (res.status === 401) return toLogin();
        if (!res.ok) throw new Error(res.statusText);
        status.textContent = 'following';
        el.replaceChildren();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '', initial = true;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          const parts = buf.split('\n');
          buf = parts.pop();
          const lines = [];
          for (const p of parts) if (p) { try { lines.push(JSON.parse(p)); } catch { /* a partial line */ } }
          if (hold && !initial) held.push(...lines); else append(lines, !initial);
          if (initial && first && !el.childElementCount) {
            const e = document.createElement('div');
            e.className = 'logs-empty';
            e.textContent = 'No output yet.';
            el.append(e);
          }
          initial = false;
          first = false;
        }
      } catch (err) {
        // fall through to reconnect
      }
      if (mine.signal.aborted || ctrl !== mine) { status.textContent = 'paused'; return; }
      status.textContent = 'reconnecting…';
      setTimeout(() => { if (ctrl === mine) connect(); }, 2000);
    }
    connect();
  }

  applyFilters();
  tick();
  stream();
})();
