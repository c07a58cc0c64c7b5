// /: the hallway. Live rooms the user may see, as cards that update live from
// the user socket, and a form to start a room.

import { h, replace, icon, avatar, plural } from '../dom.js';
import { get, post, enc } from '../api.js';
import { app, on } from '../state.js';
import { field, errorBox, busy } from './ui.js';

const TYPES = [
  ['open', 'Open', 'Anyone here can join.', 'globe'],
  ['social', 'Social', 'People you follow can join.', 'people'],
  ['closed', 'Closed', 'Only people you invite.', 'lock'],
];

function roomCard(r) {
  const speakers = r.speakers || [];
  const names = speakers.map((s) => s.display_name).join(', ');
  const more = r.speaker_count - speakers.length;
  return h('li', { class: 'room-card-item' },
    h('a', { href: `/rooms/${enc(r.id)}`, class: 'room-card', 'data-autojoin': '1', 'data-room-id': r.id },
      h('p', { class: 'room-reason' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), r.reason || 'live now',
        r.type !== 'open' ? h('span', { class: 'tag' }, r.type) : null),
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
  const title = field('What do you want to talk about?', { name: 'title', required: true, maxlength: 80, placeholder: 'e.g. Thursday jam: new music' });
  const typeName = 'room-type-' + Math.random().toString(36).slice(2);
  const radios = TYPES.map(([v, label, hint, ic], i) => {
    const input = h('input', { type: 'radio', name: typeName, value: v, checked: i === 0, class: 'sr-only' });
    return { input, el: h('label', { class: 'choice' }, input, h('span', { class: 'choice-box' }, icon(ic), h('strong', null, label), h('small', null, hint))) };
  });
  const guests = h('input', { type: 'checkbox', name: 'allow_guests' });
  const guestsRow = h('label', { class: 'check' }, guests, h('span', null, 'Let people without an account listen (guests)'));
  const syncGuests = () => {
    const open = radios[0].input.checked;
    guests.disabled = !open;
    if (!open) guests.checked = false;
    guestsRow.classList.toggle('disabled', !open);
  };
  radios.forEach((r) => r.input.addEventListener('change', syncGuests));
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('mic'), 'Start the room');
  const form = h('form', { class: 'stack start-form', 'aria-label': 'Start a room' },
    title.el,
    h('fieldset', { class: 'choices' }, h('legend', null, 'Who can join'), radios.map((r) => r.el)),
    guestsRow, err.el,
    h('div', { class: 'row' }, submit, close ? h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, 'Cancel') : null));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    busy(submit, async () => {
      const type = radios.find((r) => r.input.checked).input.value;
      const r = await post('/rooms', { title: title.input.value.trim(), type, allow_guests: guests.checked });
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

  if (app.hallway) draw(app.hallway);
  else get('/hallway').then((r) => { if (!app.hallway) draw(r.rooms); }).catch((e) => replace(list, h('li', { class: 'form-error', role: 'alert' }, e.message)));
  const off = on('hallway', draw);

  return {
    title: 'Hallway',
    destroy: off,
    el: h('section', { class: 'hallway' },
      h('div', { class: 'page-head' },
        h('div', null, h('h1', null, 'Hallway'), h('p', { class: 'muted' }, 'Live now, people you follow first.')),
        startBtn),
      startSlot,
      list),
  };
}
