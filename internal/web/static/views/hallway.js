// /: the hallway. Live rooms the user may see, as cards that update live from
// the user socket, and a form to start a room.

import { h, replace, icon, avatar, plural } from '../dom.js';
import { get, post, enc } from '../api.js';
import { app, on } from '../state.js';
import { field, errorBox, busy, counted } from './ui.js';
import { eventCard } from './events.js';
import { CHAT_MODES } from './roomsheets.js';

const TYPES = [
  ['open', 'Open', 'Anyone here can join.', 'globe'],
  ['social', 'Social', 'People you follow can join.', 'people'],
  ['closed', 'Closed', 'Only people you invite.', 'lock'],
];

// clubNames maps the IDs of the user's clubs to their names, for room cards.
let clubNames = new Map();

function roomCard(r) {
  const speakers = r.speakers || [];
  const names = speakers.map((s) => s.display_name).join(', ');
  const more = r.speaker_count - speakers.length;
  return h('li', { class: 'room-card-item' },
    h('a', { href: `/rooms/${enc(r.id)}`, class: 'room-card', 'data-autojoin': '1', 'data-room-id': r.id },
      h('p', { class: 'room-reason' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), r.reason || 'live now',
        r.type !== 'open' ? h('span', { class: 'tag' }, r.type) : null,
        r.club_id ? h('span', { class: ['tag', 'tag-club', r.club_member && 'is-member'], 'data-testid': 'club-tag' },
          clubNames.get(r.club_id) || (r.club_member ? 'your club' : 'club')) : null),
      h('h2', { class: 'room-title' }, r.title),
      h('div', { class: 'room-people' },
        h('div', { class: 'avatar-stack', 'aria-hidden': 'true' }, speakers.map((s) => avatar(s, 'md'))),
        h('div', { class: 'room-names' },
          h('p', { class: 'speaker-names' }, names || 'Nobody on stage yet', more > 0 ? ` and ${more} more` : ''),
          h('p', { class: 'counts' },
            h('span', null, icon('mic', 'tiny'), plural(r.speaker_count, 'speaker')),
            h('span', null, icon('people', 'tiny'), plural(r.listener_count, 'listener')))))));
}

function startForm(close) {
  const title = counted(field('What do you want to talk about?', { name: 'title', required: true, placeholder: 'e.g. Thursday jam: new music' }), 80);
  const description = counted(field('Description (optional)', { name: 'description', multiline: true, rows: 2, placeholder: 'What it is about, who should come' }), 500);
  const typeName = 'room-type-' + Math.random().toString(36).slice(2);
  const radios = TYPES.map(([v, label, hint, ic], i) => {
    const input = h('input', { type: 'radio', name: typeName, value: v, checked: i === 0, class: 'sr-only' });
    return { input, el: h('label', { class: 'choice' }, input, h('span', { class: 'choice-box' }, icon(ic), h('strong', null, label), h('small', null, hint))) };
  });
  const guests = h('input', { type: 'checkbox', name: 'allow_guests' });
  const guestsRow = h('label', { class: 'check' }, guests, h('span', null, 'Let people without an account listen (guests)'));
  const record = h('input', { type: 'checkbox', name: 'record', 'data-testid': 'record' });
  const clips = h('input', { type: 'checkbox', name: 'allow_clips', disabled: true });
  const clipsRow = h('label', { class: ['check', 'disabled'] }, clips, h('span', null, 'Let listeners keep the last 30 seconds as clips'));
  const captions = h('input', { type: 'checkbox', name: 'captions', disabled: true });
  const captionsRow = h('label', { class: ['check', 'disabled'] }, captions, h('span', null, 'Caption the replay (speech to text)'));
  record.addEventListener('change', () => {
    for (const [box, row] of [[clips, clipsRow], [captions, captionsRow]]) {
      box.disabled = !record.checked;
      if (!record.checked) box.checked = false;
      row.classList.toggle('disabled', !record.checked);
    }
  });
  const recordRow = h('label', { class: 'check' }, record, h('span', null, 'Record this room for a replay (everyone is told before joining)'));
  const syncGuests = () => {
    const open = radios[0].input.checked;
    guests.disabled = !open;
    if (!open) guests.checked = false;
    guestsRow.classList.toggle('disabled', !open);
  };
  radios.forEach((r) => r.input.addEventListener('change', syncGuests));
  // The chat: who may write at first (the room's type suggests it, as the
  // server's default does: the stage in open rooms, everyone among people who
  // know each other), and whether it outlives the room.
  const chatID = 'chat-mode-' + typeName;
  const chat = h('select', { id: chatID, name: 'chat' }, CHAT_MODES.map(([v, label]) => h('option', { value: v }, label)));
  let chatTouched = false;
  chat.addEventListener('change', () => { chatTouched = true; });
  const syncChat = () => {
    if (!chatTouched) chat.value = radios[0].input.checked ? 'speakers' : 'everyone';
  };
  radios.forEach((r) => r.input.addEventListener('change', syncChat));
  syncChat();
  const keep = h('input', { type: 'checkbox', name: 'keep_chat' });
  const chatField = h('div', { class: 'field' }, h('label', { for: chatID }, 'Chat'), chat,
    h('label', { class: 'check' }, keep, h('span', null, 'Keep the chat after the room ends (for you and the speakers); otherwise it is deleted')));
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('mic'), 'Start the room');
  const form = h('form', { class: 'stack start-form', 'aria-label': 'Start a room' },
    title.el, description.el,
    h('fieldset', { class: 'choices' }, h('legend', null, 'Who can join'), radios.map((r) => r.el)),
    guestsRow, chatField, recordRow, clipsRow, captionsRow, err.el,
    h('div', { class: 'row' }, submit, close ? h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, 'Cancel') : null));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    busy(submit, async () => {
      const type = radios.find((r) => r.input.checked).input.value;
      const r = await post('/rooms', { title: title.input.value.trim(), description: description.input.value.trim(), type, allow_guests: guests.checked,
        chat: chat.value, keep_chat: keep.checked,
        record: record.checked, allow_clips: clips.checked, captions: captions.checked });
      app.navigate(`/rooms/${enc(r.id)}`, { autojoin: true });
    }, err);
  });
  return { form, focus: () => title.input.focus() };
}

export async function hallwayView() {
  const list = h('ul', { class: 'room-list', 'aria-live': 'polite', 'aria-busy': 'true' });
  const startSlot = h('div', { class: 'start-slot' });
  const startBtn = h('button', { type: 'button', class: 'btn btn-primary btn-start', 'aria-expanded': 'false' }, icon('plus'), 'Start a room');

  const toggleStart = (open) => {
    startBtn.setAttribute('aria-expanded', String(open));
    startBtn.hidden = open;
    if (!open) { replace(startSlot); startBtn.focus(); return; }
    const f = startForm(() => toggleStart(false));
    replace(startSlot, h('div', { class: 'card start-card' }, f.form));
    f.focus();
  };
  startBtn.addEventListener('click', () => toggleStart(true));

  const draw = (rooms) => {
    list.removeAttribute('aria-busy');
    if (!rooms) return;
    if (rooms.length === 0) {
      replace(list, h('li', { class: 'empty' },
        h('p', { class: 'empty-title' }, 'It’s quiet right now'),
        h('p', { class: 'muted' }, 'Start a room: the people who follow you will see it here.')));
      return;
    }
    replace(list, rooms.map(roomCard));
  };

  // Upcoming events: GET /hallway carries the first ten (the user socket sends
  // rooms only); refreshed when an event notice arrives.
  const events = h('section', { class: 'hallway-events', 'aria-labelledby': 'upcoming-h', hidden: true });
  const drawEvents = (list) => {
    events.hidden = !list || list.length === 0;
    if (events.hidden) return;
    replace(events, h('div', { class: 'section-head' }, h('h2', { id: 'upcoming-h', class: 'section-title' }, 'Coming up'),
      h('span', { class: 'row' }, h('a', { href: '/events?list=explore', class: 'small' }, 'Explore'),
        h('a', { href: '/events', class: 'small' }, 'All events'))),
    h('ul', { class: 'event-list compact' }, list.slice(0, 3).map((e) => eventCard(e, { compact: true }))));
  };
  const load = () => get('/hallway').then((r) => {
    if (!app.hallway) draw(r.rooms);
    drawEvents(r.events || []);
  }).catch((e) => { if (!app.hallway) replace(list, h('li', { class: 'form-error', role: 'alert' }, e.message)); });
  if (app.hallway) draw(app.hallway);
  load();
  get('/clubs').then((r) => {
    clubNames = new Map((r.clubs || []).map((c) => [c.id, c.name]));
    if (app.hallway && app.hallway.some((x) => x.club_id)) draw(app.hallway);
  }).catch(() => {});
  const offs = [on('hallway', draw), on('notification', (n) => { if (n && String(n.kind).startsWith('event_')) load(); })];
  const off = () => offs.forEach((f) => f());

  return {
    title: 'Hallway',
    destroy: off,
    el: h('section', { class: 'hallway' },
      h('div', { class: 'page-head' },
        h('div', null, h('h1', null, 'Hallway'), h('p', { class: 'muted' }, 'Live now, people you follow first.')),
        startBtn),
      startSlot,
      events,
      h('h2', { class: 'sr-only' }, 'Live rooms'),
      list),
  };
}
