// /search?q=: people, clubs, upcoming events, live rooms and replays, as the
// user types.

import { h, replace, avatar, icon, plural } from '../dom.js';
import { get, enc, ApiError } from '../api.js';
import { formatWhen } from '../when.js';
import { replayRow } from './replay.js';

const DEBOUNCE = 350; // ms; the server allows 2 searches a second

export async function searchView({ query }) {
  const input = h('input', { type: 'search', class: 'search-big', name: 'q', value: query.get('q') || '', maxlength: 100,
    'aria-label': 'Search people, clubs and events', placeholder: 'Search people, clubs and events', autocomplete: 'off', 'data-testid': 'search-input' });
  const status = h('p', { class: 'muted small', role: 'status', 'aria-live': 'polite' });
  const results = h('div', { class: 'search-results' });
  let timer = 0;
  let seq = 0;

  const section = (title, items, render, testid) => items.length === 0 ? null : h('section', { 'aria-label': title, 'data-testid': testid },
    h('h2', { class: 'section-title' }, title), h('ul', { class: 'people-list' }, items.map(render)));

  const run = async () => {
    const q = input.value.trim();
    const n = ++seq;
    history.replaceState(history.state, '', q ? '/search?q=' + enc(q) : '/search');
    if (!q) { replace(results); status.textContent = ''; return; }
    status.textContent = 'Searching…';
    try {
      const r = await get('/search?q=' + enc(q));
      if (n !== seq) return;
      const users = r.users || [];
      const clubs = r.clubs || [];
      const events = r.events || [];
      const rooms = r.rooms || [];
      const replays = r.replays || [];
      const total = users.length + clubs.length + events.length + rooms.length + replays.length;
      status.textContent = total === 0 ? `Nothing matches “${q}”.` : plural(total, 'result');
      replace(results,
        section('Live now', rooms, (x) => h('li', null, h('a', { href: `/rooms/${enc(x.id)}`, class: 'people-row', 'data-autojoin': '1' },
          h('span', { class: 'live-dot', 'aria-hidden': 'true' }), h('span', null, x.title),
          h('span', { class: 'muted small' }, plural(x.listener_count + (x.speaker_count || 0), 'person', 'people')))), 'search-rooms'),
        section('People', users, (u) => h('li', null, h('a', { href: `/u/${enc(u.username)}`, class: 'people-row' },
          avatar(u, 'sm'), h('span', null, u.display_name), h('span', { class: 'muted' }, '@' + u.username))), 'search-people'),
        section('Clubs', clubs, (c) => h('li', null, h('a', { href: `/clubs/${enc(c.id)}`, class: 'people-row' },
          h('span', { class: 'club-mark', 'aria-hidden': 'true' }, icon('club')), h('span', null, c.name),
          h('span', { class: 'muted small' }, plural(c.members || 0, 'member')))), 'search-clubs'),
        section('Events', events, (e) => h('li', null, h('a', { href: `/events/${enc(e.id)}`, class: 'people-row' },
          h('span', { class: 'club-mark', 'aria-hidden': 'true' }, icon('calendar')), h('span', null, e.name),
          h('span', { class: 'muted small' }, formatWhen(e.starts_at)))), 'search-events'),
        section('Replays', replays, replayRow, 'search-replays'));
    } catch (e) {
      if (n !== seq) return;
      status.textContent = e instanceof ApiError && e.status === 429 ? 'Searching too fast. Wait a moment.' : e.message;
    }
  };
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(run, DEBOUNCE); });
  const form = h('form', { role: 'search', class: 'search-form' }, icon('search'), input);
  form.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(timer); run(); });
  if (input.value) run();
  setTimeout(() => input.focus(), 0);
  return {
    title: 'Search',
    destroy: () => clearTimeout(timer),
    el: h('section', { class: 'search' }, h('h1', { class: 'sr-only' }, 'Search'), form, status, results),
  };
}
