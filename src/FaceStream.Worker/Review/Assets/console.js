// FaceStream review console: fills the server's pages from the worker's /api (same origin, the sign-in cookie).
// No library and no build step. Every text goes in with textContent (never innerHTML) so event fields cannot inject markup.
'use strict';
(() => {
  const page = document.body.dataset.page;
  let me = { role: 'viewer', may_change: false };

  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) e.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
    return e;
  };
  const $ = (s) => document.querySelector(s);
  const say = (text) => { const s = $('#status'); if (s) s.textContent = text; };
  const when = (iso) => iso ? new Date(iso).toLocaleString() : '';

  async function api(path, options = {}) {
    const headers = { 'X-FaceStream-Console': '1', ...(options.headers || {}) };
    const r = await fetch('/api' + path, { credentials: 'same-origin', ...options, headers });
    if (r.status === 401) { location.href = '/login'; throw new Error('signed out'); }
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail || detail; } catch { /* not JSON */ }
      throw new Error(`${r.status}: ${detail}`);
    }
    return r.status === 204 ? null : r.json();
  }
  const post = (path, body) => api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  function every(ms, fn) {
    const tick = async () => { try { await fn(); } catch (e) { say(String(e.message || e)); } };
    tick();
    return setInterval(tick, ms);
  }

  // Cameras: state, analysed fps, last frame age, last error.
  async function cameras() {
    const list = await api('/console/cameras');
    const body = $('#cameras tbody');
    body.replaceChildren(...list.map(c => el('tr', { 'data-camera': c.id },
      el('th', { scope: 'row' }, c.id),
      el('td', { class: 'state-' + c.state }, c.state),
      el('td', {}, c.analysed_fps === null ? '…' : c.analysed_fps.toFixed(1)),
      el('td', {}, c.last_frame_age_s === null ? 'none yet' : `${c.last_frame_age_s.toFixed(1)} s ago`),
      el('td', {}, String(c.frames_decoded)),
      el('td', {}, String(c.reconnects)),
      el('td', {}, c.last_error || ''))));
    say(list.length === 0 ? 'No camera is configured.' : `${list.filter(c => c.state === 'streaming').length} of ${list.length} streaming`);
    await cameraFrames(list);
  }

  // Cameras: each camera's latest preview (GET /api/cameras/{id}/frame), fetched as a blob so that its age header can be shown.
  // Asking is what keeps the previews coming (Console:PreviewWatchWindow); the first ask after a quiet spell may get 503.
  async function cameraFrames(list) {
    const box = $('#frames');
    if (box) box.replaceChildren(...await Promise.all(list.map(c => cameraFrame(c.id))));
  }

  const frameFigures = new Map();
  async function cameraFrame(id) {
    let f = frameFigures.get(id);
    if (!f) {
      f = { img: el('img', { class: 'frame', alt: '' }), caption: el('figcaption'), url: null };
      f.figure = el('figure', { 'data-camera-frame': id }, f.img, f.caption);
      frameFigures.set(id, f);
    }
    const r = await fetch(`/api/cameras/${encodeURIComponent(id)}/frame`, { credentials: 'same-origin', cache: 'no-store' });
    if (r.status === 401) { location.href = '/login'; throw new Error('signed out'); }
    if (r.status === 503) {
      // Previews are made only while someone watches: this request asked for one; the next poll shows it.
      f.img.hidden = true;
      f.caption.textContent = `${id}: waiting for a frame…`;
      return f.figure;
    }
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail || detail; } catch { /* not JSON */ }
      f.img.hidden = true;
      f.caption.textContent = `${id}: no frame (${detail})`;
      return f.figure;
    }
    const age = Number(r.headers.get('X-Frame-Age'));
    const url = URL.createObjectURL(await r.blob());
    f.img.onload = () => { if (f.url && f.url !== url) URL.revokeObjectURL(f.url); f.url = url; };
    f.img.src = url;
    f.img.hidden = false;
    f.img.alt = `Latest analysed frame of camera ${id}, analysed ${age.toFixed(1)} s ago, faces boxed with their track ids`;
    f.caption.textContent = `${id} · frame analysed ${age.toFixed(1)} s ago`;
    return f.figure;
  }

  // Alerts: newest first, filters, snapshot beside the enrolled photo, verdict buttons; polled while on the newest page.
  let until = null, shown = '';
  function filters() {
    const f = new FormData($('#filters'));
    const q = new URLSearchParams({ limit: '20' });
    for (const k of ['camera', 'identity', 'kind']) if (f.get(k)) q.set(k, f.get(k));
    for (const k of ['since', 'until']) if (f.get(k)) q.set(k, new Date(f.get(k)).toISOString());
    if (until) q.set('until', until);
    return q;
  }
  function alertItem(a) {
    const name = a.identity_name || (a.kind === 'unknown' ? 'Unknown person' : a.kind);
    const seen = a.snapshot_url
      ? el('img', { src: a.snapshot_url, alt: `Face seen on camera ${a.camera_id} at ${when(a.frame_timestamp)}`, width: 160, height: 160, class: 'snapshot' })
      : el('p', { class: 'missing' }, 'no snapshot');
    const enrolled = a.identity_id
      ? el('img', { src: `/api/identities/${encodeURIComponent(a.identity_id)}/photo`, alt: `Enrolled photo of ${name}`, width: 160, height: 160, class: 'enrolled' })
      : el('p', { class: 'missing' }, 'not on the watchlist');
    const verdict = el('span', { class: 'verdict' }, a.feedback ? `Marked ${a.feedback.verdict} by ${a.feedback.who}` : 'No verdict yet');
    const buttons = ['correct', 'wrong'].map(v => el('button', {
      type: 'button', 'data-verdict': v, disabled: !me.may_change, 'aria-pressed': String(a.feedback?.verdict === v),
      onclick: async () => {
        try { const f = await post(`/events/${a.event_id}/feedback`, { verdict: v }); verdict.textContent = `Marked ${f.verdict} by ${f.who}`; buttons.forEach(b => b.setAttribute('aria-pressed', String(b.dataset.verdict === v))); }
        catch (e) { verdict.textContent = String(e.message); }
      },
    }, v === 'correct' ? 'Correct' : 'Wrong'));
    const facts = a.kind === 'camera_state'
      ? [['State', a.camera_state], ['Reason', a.reason || '']]
      : [['Similarity', a.similarity.toFixed(3)], ['Margin', a.margin.toFixed(3)], ['Track', String(a.track_id)]];
    if (a.attributes) facts.push(['Attributes', attributes(a.attributes)]);
    return el('li', { class: 'alert', 'data-event': a.event_id, 'data-kind': a.kind },
      el('figure', {}, seen, el('figcaption', {}, 'Seen')),
      el('figure', {}, enrolled, el('figcaption', {}, 'Enrolled')),
      el('div', { class: 'facts' },
        el('h2', {}, name),
        el('p', {}, `${a.camera_id} · ${when(a.frame_timestamp)}`),
        el('dl', {}, facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
        a.kind === 'camera_state' ? '' : el('div', { role: 'group', 'aria-label': `Verdict on ${name} at ${when(a.frame_timestamp)}` }, buttons, ' ', verdict),
        a.kind === 'match' && a.snapshot_url ? addToWatchlist(a, name) : ''));
  }

  // The view's attributes in one line ("female · ~34 · yaw 12°"); the experimental ones (docs/attributes.md) marked.
  function attributes(x) {
    const experimental = new Set(x.experimental || []);
    const parts = [];
    if (x.gender) parts.push(['gender', x.gender]);
    if (x.age !== undefined) parts.push(['age', `~${Math.round(x.age)}`]);
    if (x.pose) parts.push(['pose', `yaw ${Math.round(x.pose.yaw)}°`]);
    if (x.expression) parts.push(['expression', x.expression]);
    if (x.eyes) parts.push(['eyes', `eyes ${x.eyes}`]);
    const line = el('span', { class: 'attributes' });
    parts.forEach(([key, text], i) => {
      if (i > 0) line.append(' · ');
      line.append(experimental.has(key) ? el('span', { class: 'experimental', title: `${key}: experimental, not shown to work` }, text + '*') : text);
    });
    if (parts.some(([key]) => experimental.has(key))) line.append(el('small', {}, ' (* experimental)'));
    return line;
  }

  // A correct match's face becomes a template of its identity in one click (the server runs the enrollment checks).
  // The answers are kept by event, so the list's refresh (after a verdict) shows them again.
  const added = new Map();
  function addToWatchlist(a, name) {
    const result = el('span', { class: 'added', role: 'status' });
    const show = ([text, ok]) => { result.textContent = text; result.className = 'added ' + (ok ? 'ok' : 'error'); };
    if (added.has(a.event_id)) show(added.get(a.event_id));
    const button = el('button', {
      type: 'button', class: 'add-template', disabled: !me.may_change,
      onclick: async () => {
        button.disabled = true;
        let answer;
        try { const r = await api(`/events/${a.event_id}/enroll`, { method: 'POST' }); answer = [`Added to ${name} (template ${r.template_id}, quality ${r.quality})`, true]; }
        catch (e) { answer = [`Not added: ${e.message}`, false]; button.disabled = false; }
        added.set(a.event_id, answer);
        show(answer);
      },
    }, 'Add to watchlist');
    return el('p', {}, button, ' ', result);
  }
  async function alerts() {
    const list = await api('/events?' + filters());
    const signature = list.map(a => a.event_id + (a.feedback?.verdict || '')).join();
    if (signature !== shown) {
      shown = signature;
      $('#alerts').replaceChildren(...list.map(alertItem));
    }
    say(`${list.length} alert${list.length === 1 ? '' : 's'}${until ? ' (older page)' : ', refreshed every 5 seconds'}`);
    $('#older').disabled = list.length < 20;
    $('#older').onclick = () => { until = list[list.length - 1].frame_timestamp; shown = ''; alerts().catch(e => say(e.message)); };
  }

  // Watchlist: search, open, add, enroll several photos (each with its accepted/refused reason), delete.
  let people = [];
  async function watchlist() {
    people = await api('/identities');
    const term = ($('#search').value || '').toLowerCase();
    const rows = people.filter(p => !term || p.name.toLowerCase().includes(term) || p.id.toLowerCase().includes(term));
    $('#people tbody').replaceChildren(...rows.map(p => el('tr', {},
      el('td', {}, p.templates.some(t => t.has_crop) ? el('img', { src: `/api/identities/${encodeURIComponent(p.id)}/photo`, alt: `Photo of ${p.name}`, width: 64, height: 64 }) : ''),
      el('th', { scope: 'row' }, p.name), el('td', {}, p.id), el('td', {}, String(p.templates.length)),
      el('td', {}, el('button', { type: 'button', onclick: () => open(p) }, 'Open'), ' ',
        el('button', { type: 'button', disabled: !me.may_change, onclick: () => remove(p) }, 'Delete')))));
    const select = $('#enroll select');
    const chosen = select.value;
    select.replaceChildren(...people.map(p => el('option', { value: p.id, selected: p.id === chosen }, `${p.name} (${p.id})`)));
  }
  function open(p) {
    $('#detail').hidden = false;
    $('#detail-h').textContent = `${p.name} (${p.id})`;
    $('#seen-link').href = `/seen?identity=${encodeURIComponent(p.id)}`;
    $('#templates').replaceChildren(...p.templates.map(t => el('figure', {},
      t.has_crop ? el('img', { src: `/api/identities/${encodeURIComponent(p.id)}/templates/${encodeURIComponent(t.id)}/crop`, alt: `Template ${t.id} of ${p.name}`, width: 112, height: 112 }) : el('p', {}, 'no crop kept'),
      el('figcaption', {}, `quality ${t.quality}, ${when(t.created)} `,
        el('button', { type: 'button', disabled: !me.may_change, onclick: async () => {
          if (!confirm(`Delete this template of ${p.name}?`)) return;
          await api(`/identities/${encodeURIComponent(p.id)}/templates/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
          await watchlist(); const again = people.find(x => x.id === p.id); if (again) open(again); else $('#detail').hidden = true;
        } }, 'Delete template')))));
    $('#detail').focus?.();
  }
  async function remove(p) {
    const erase = $('#erase').checked;
    if (!confirm(`Delete ${p.name} and every enrolled photo?${erase ? ' The snapshots of their past alerts are erased too: this cannot be undone.' : ''}`)) return;
    const erased = erase ? await api(`/identities/${encodeURIComponent(p.id)}/snapshots`, { method: 'DELETE' }) : null;
    await api(`/identities/${encodeURIComponent(p.id)}`, { method: 'DELETE' });
    $('#erased').textContent = `Deleted ${p.name}` + (erased ? `; erased ${erased.snapshots_deleted} snapshot files of ${erased.events} alerts.` : '.');
    $('#detail').hidden = true;
    await watchlist();
  }
  function watchlistForms() {
    $('#search').addEventListener('input', () => watchlist());
    $('#add').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      try { await post('/identities', { name: f.get('name'), id: f.get('id') || undefined }); ev.target.reset(); await watchlist(); }
      catch (e) { alert(e.message); }
    });
    $('#enroll').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = new FormData(ev.target);
      const id = f.get('identity');
      const out = $('#enrolled');
      out.replaceChildren();
      for (const file of ev.target.photos.files) {
        const line = el('li', {}, `${file.name}: sending…`);
        out.append(line);
        const form = new FormData();
        form.append('file', file, file.name);
        try {
          const r = await api(`/identities/${encodeURIComponent(id)}/faces`, { method: 'POST', body: form });
          line.textContent = `${file.name}: accepted (quality ${r.quality}${r.note ? ', ' + r.note : ''})`;
          line.className = 'ok';
        } catch (e) { line.textContent = `${file.name}: refused, ${e.message}`; line.className = 'error'; }
      }
      await watchlist();
    });
  }

  async function audit() {
    const list = await api('/audit?limit=200');
    $('#audit tbody').replaceChildren(...list.map(a => el('tr', {}, el('td', {}, when(a.at)), el('td', {}, a.who), el('td', {}, a.what))));
    say(`${list.length} entries`);
  }

  // Where was this person seen? Per camera a row with the alerts as marks by time, the list newest first below.
  let seenShown = '';
  async function seen() {
    const pick = $('#seen-identity');
    if (!pick.options.length) {
      const list = await api('/identities');
      pick.replaceChildren(...list.map(p => el('option', { value: p.id }, `${p.name} (${p.id})`)));
      const wanted = new URLSearchParams(location.search).get('identity');
      if (wanted && ![...pick.options].some(o => o.value === wanted)) pick.append(el('option', { value: wanted }, `${wanted} (not on the watchlist)`));
      if (wanted) pick.value = wanted;
    }
    if (!pick.value) { say('Nobody is on the watchlist.'); return; }
    const id = pick.value, name = pick.selectedOptions[0].textContent;
    const list = await api(`/events?identity=${encodeURIComponent(id)}&kind=match&limit=1000`);
    const signature = id + list.map(a => a.event_id).join();
    if (signature === seenShown) return;
    seenShown = signature;
    say(list.length === 0 ? `${name} was not seen in the recent alerts.` : `${name}: ${list.length} alert${list.length === 1 ? '' : 's'} on ${new Set(list.map(a => a.camera_id)).size} camera(s)`);
    const times = list.map(a => Date.parse(a.frame_timestamp));
    let lo = Math.min(...times), hi = Math.max(...times);
    if (hi - lo < 60000) { const mid = (lo + hi) / 2; lo = mid - 30000; hi = mid + 30000; }
    $('#seen-span').textContent = list.length ? `${when(new Date(lo).toISOString())} to ${when(new Date(hi).toISOString())}` : '';
    const cameras = [...new Set(list.map(a => a.camera_id))];
    $('#timeline tbody').replaceChildren(...cameras.map(camera => el('tr', { 'data-camera': camera },
      el('th', { scope: 'row' }, camera),
      el('td', { class: 'track' }, list.filter(a => a.camera_id === camera).map(a => el('a', {
        class: 'mark', href: `#seen-${a.event_id}`, style: `left: ${(2 + 96 * (Date.parse(a.frame_timestamp) - lo) / (hi - lo)).toFixed(2)}%`,
        'aria-label': `${camera} at ${when(a.frame_timestamp)}, similarity ${a.similarity.toFixed(3)}`,
      }))))));
    $('#sightings').replaceChildren(...list.map(a => el('li', { id: `seen-${a.event_id}`, 'data-event': a.event_id },
      a.snapshot_url ? el('img', { src: a.snapshot_url, alt: `Face seen on camera ${a.camera_id} at ${when(a.frame_timestamp)}`, width: 64, height: 64 }) : el('span', { class: 'missing-small' }, 'no snapshot'),
      el('span', {}, `${a.camera_id} · ${when(a.frame_timestamp)} · similarity ${a.similarity.toFixed(3)}`, a.feedback ? ` · marked ${a.feedback.verdict}` : ''))));
  }

  async function start() {
    try { me = await api('/me'); } catch (e) { say(e.message); return; }
    $('#who').textContent = `Signed in: ${me.role}`;
    if (!me.may_change) document.querySelectorAll('[data-operator]').forEach(s => { s.hidden = true; });
    if (page === 'cameras') every(3000, cameras);
    if (page === 'alerts') {
      $('#filters').addEventListener('submit', (ev) => { ev.preventDefault(); until = null; shown = ''; alerts().catch(e => say(e.message)); });
      $('#newest').onclick = () => { until = null; shown = ''; alerts().catch(e => say(e.message)); };
      every(5000, () => (until ? Promise.resolve() : alerts()));
    }
    if (page === 'watchlist') { watchlistForms(); every(10000, watchlist); }
    if (page === 'audit') every(5000, audit);
    if (page === 'seen') {
      $('#seen-pick').addEventListener('submit', (ev) => { ev.preventDefault(); seenShown = ''; history.replaceState(null, '', `/seen?identity=${encodeURIComponent($('#seen-identity').value)}`); seen().catch(e => say(e.message)); });
      every(10000, seen);
    }
  }
  start();
})();
