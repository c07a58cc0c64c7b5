// Replays and clips: the player of an ended recorded room (shown on its page,
// /rooms/{id}, once it is over) and the page of a clip (/clips/{id}). The audio
// element does the scrubbing (the server serves ranges); the speed and the
// speakers' timeline are ours.

import { h, replace, append, icon, initials } from '../dom.js';
import { get, del, enc, ApiError } from '../api.js';
import { app, toast } from '../state.js';
import { busy } from './ui.js';
import { shareButton } from '../share.js';

const SPEEDS = [0.75, 1, 1.25, 1.5, 2];

// fmt writes milliseconds as m:ss.
function fmt(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// player is an audio element with a speed menu, and the captions if any (an
// audio element shows no text track: the current cue is drawn under it).
function player(src, testid, captions = '') {
  const audio = h('audio', { controls: true, preload: 'metadata', src, 'data-testid': testid });
  const line = h('p', { class: 'replay-caption', 'aria-live': 'off', 'data-testid': testid + '-caption' });
  if (captions) {
    const track = h('track', { kind: 'captions', src: captions, srclang: 'en', label: 'Captions', default: true });
    audio.appendChild(track);
    track.track.mode = 'hidden';
    track.track.addEventListener('cuechange', () => {
      const cues = [...(track.track.activeCues || [])];
      line.textContent = cues.map((c) => c.text.replace(/<v ([^>]*)>/g, '$1: ')).join(' ');
    });
  }
  const speed = h('select', { 'aria-label': 'Play speed', 'data-testid': testid + '-speed' },
    SPEEDS.map((v) => h('option', { value: String(v), selected: v === 1 }, `${v}×`)));
  speed.addEventListener('change', () => { audio.playbackRate = Number(speed.value); });
  return { audio, el: h('div', { class: 'stack' }, audio, captions ? line : null, h('label', { class: 'row' }, 'Speed ', speed)) };
}

// replayCard returns the card of room id's replay, or null if there is none the
// user may hear.
export async function replayCard(id) {
  let r;
  try {
    r = await get('/rooms/' + enc(id) + '/replay');
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
  const card = h('section', { class: 'card narrow replay', 'data-testid': 'replay' });
  if (r.state !== 'ready') {
    replace(card, h('h1', null, r.title), h('p', { class: 'muted', 'data-testid': 'replay-state' },
      r.state === 'recording' ? 'The replay is being made.' : 'The replay could not be made.'));
    return card;
  }
  const p = player(r.audio_url, 'replay-audio', r.captions_url || '');
  const timeline = h('ol', { class: 'replay-timeline', 'aria-label': 'Who spoke when', 'data-testid': 'replay-timeline' });
  replace(timeline, r.turns.map((t) => {
    const who = t.name || 'Speaker';
    const b = h('button', { type: 'button', class: 'btn btn-small btn-ghost', title: `${who} at ${fmt(t.start_ms)}` },
      h('span', { class: 'avatar avatar-xs', 'aria-hidden': 'true' }, initials(who)), ` ${who} · ${fmt(t.start_ms)}`);
    b.addEventListener('click', () => { p.audio.currentTime = t.start_ms / 1000; p.audio.play().catch(() => {}); });
    return h('li', null, b);
  }));
  const remove = r.can_delete ? h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'replay-delete' }, 'Delete the replay') : null;
  if (remove) {
    remove.addEventListener('click', () => busy(remove, async () => {
      await del('/rooms/' + enc(id) + '/replay');
      toast('The replay is deleted.', 'info', 2500);
      replace(card, h('p', null, 'The replay is deleted.'));
    }).catch((e) => toast(e.message, 'error')));
  }
  replace(card,
    h('p', { class: 'eyebrow' }, 'Replay'),
    h('h1', null, r.title),
    h('p', { class: 'muted' }, `Recorded ${new Date(r.started_at).toLocaleString()} · ${fmt(r.duration_ms)}`),
    p.el,
    r.turns.length ? h('h2', { class: 'section-title' }, 'Who spoke') : null, timeline,
    h('div', { class: 'row' },
      h('a', { href: r.audio_url + '?download=1', class: 'btn btn-ghost', download: '' }, 'Download'),
      remove));
  return card;
}

// replayRow is one replay in a list: its title (a link to its room's page,
// which plays it), who hosted it, when, and how long it lasts.
export function replayRow(x) {
  return h('li', null, h('a', { href: `/rooms/${enc(x.room_id)}`, class: 'people-row', 'data-testid': 'replay-link' },
    h('span', { class: 'club-mark', 'aria-hidden': 'true' }, icon('play')), h('span', null, x.title),
    h('span', { class: 'muted small' }, [x.host ? x.host.display_name : null, new Date(x.started_at).toLocaleDateString(), fmt(x.duration_ms)].filter(Boolean).join(' · '))));
}

// replayList is the "Replays" section of a profile or a club: the replays at
// path (an API list the user may listen to), a page at a time. Hidden while
// there are none.
export function replayList(path) {
  const list = h('ul', { class: 'people-list' });
  const more = h('button', { type: 'button', class: 'btn btn-ghost', hidden: true }, 'More replays');
  const el = h('section', { 'aria-label': 'Replays', hidden: true, 'data-testid': 'replays' },
    h('h2', { class: 'section-title' }, 'Replays'), list, more);
  let cursor = '';
  const load = async () => {
    const r = await get(path + '?limit=20' + (cursor ? '&cursor=' + enc(cursor) : ''));
    append(list, r.replays.map(replayRow));
    cursor = r.next_cursor || '';
    more.hidden = !cursor;
    el.hidden = list.children.length === 0;
  };
  more.addEventListener('click', () => busy(more, load).catch((e) => toast(e.message, 'error')));
  load().catch(() => {}); // a list that cannot load stays hidden
  return el;
}

// clipView is /clips/{id}: a clip's own page, to share.
export async function clipView({ params }) {
  const id = params[0];
  let c;
  try {
    c = await get('/clips/' + enc(id));
  } catch (e) {
    return {
      title: 'Clip',
      el: h('section', { class: 'card narrow center' }, h('h1', null, 'Clip not available'),
        h('p', null, 'This clip was deleted, or it is not open to you.'),
        app.me ? null : h('a', { href: '/login?next=' + enc(location.pathname), class: 'btn btn-primary' }, 'Log in')),
    };
  }
  const p = player(c.audio_url, 'clip-audio');
  return {
    title: c.title,
    el: h('section', { class: 'card narrow center clip' },
      h('p', { class: 'eyebrow' }, `A clip · ${fmt(c.duration_ms)}`),
      h('h1', null, c.title),
      p.el,
      h('div', { class: 'row center' }, shareButton(() => ({ url: `/clips/${c.id}`, title: c.title })),
        h('a', { href: `/rooms/${enc(c.room_id)}`, class: 'btn btn-ghost' }, 'The room'))),
  };
}
