// Reactions: the bar of the room's reactions in the dock, and the reactions of
// the room floating up over the tile of whoever sent them, or over the audience
// for the senders without a tile and for those a busy room only counts
// (docs/protocol.md, "Reactions": from [{user_id, emoji}], others {emoji: n}).

import { h, replace } from '../dom.js';

// NAMES say what each reaction means, for screen readers and tooltips.
const NAMES = { '👏': 'Applause', '❤️': 'Love', '😂': 'Laughter', '💯': 'Hundred percent', '✋': 'Hand up', '🙏': 'Thanks' };

// FLOAT_FOR is how long a reaction shows, as long as its animation (style.css,
// .float); MAX_FLOATS is how many one place shows at once.
const FLOAT_FOR = 1800;
const MAX_FLOATS = 6;

// DRIFTS and LANES are the classes that spread floats sideways: over a tile a
// little, over the audience across it.
const DRIFTS = 4;
const LANES = 6;

// reactionBar is the dock's row of reactions: the snapshot's six while the
// moderators allow them, hidden otherwise. A tap sends one (guests too); past
// the budget the bar rests for the moment it takes to refill.
export function reactionBar(s) {
  const el = h('div', { class: 'reaction-bar', role: 'group', 'aria-label': 'React', 'data-testid': 'reaction-bar' });
  let key = null;
  let wake = 0;
  const rest = (on) => {
    el.classList.toggle('resting', on);
    for (const b of el.querySelectorAll('button')) {
      if (on) b.setAttribute('aria-disabled', 'true');
      else b.removeAttribute('aria-disabled');
    }
  };
  const send = (emoji, b) => {
    if (s.react(emoji)) {
      b.classList.remove('sent');
      void b.offsetWidth; // restart the press animation
      b.classList.add('sent');
      return;
    }
    rest(true);
    clearTimeout(wake);
    wake = setTimeout(() => rest(false), Math.max(100, s.reactWait()));
  };
  const update = () => {
    const r = s.room;
    const list = r && r.reactions_allowed && s.status !== 'over' ? r.reactions || [] : [];
    el.hidden = list.length === 0;
    const k = list.join(' ');
    if (k === key) return;
    key = k;
    replace(el, list.map((emoji) => {
      const name = NAMES[emoji] || emoji;
      const b = h('button', { type: 'button', class: 'react-btn', 'aria-label': `React: ${name}`, title: name, 'data-emoji': emoji },
        h('span', { 'aria-hidden': 'true' }, emoji));
      b.addEventListener('click', () => send(emoji, b));
      return b;
    }));
  };
  update();
  return { el, update, destroy: () => clearTimeout(wake) };
}

// floatReactions shows a reactions message in the room element root: each named
// sender's over their tile when they have one (on stage, or a listener shown in
// the audience), the others over lane, the audience's layer.
export function floatReactions(root, lane, m) {
  const crowd = new Map(); // emoji → how many, for the lane
  const more = (emoji, n) => crowd.set(emoji, (crowd.get(emoji) || 0) + n);
  for (const f of m.from || []) {
    const tile = root.querySelector(`.person[data-user-id="${CSS.escape(String(f.user_id))}"]`);
    const place = tile && tile.closest('li');
    if (place) addFloat(place, f.emoji, 1, `drift-${Math.floor(Math.random() * DRIFTS)}`);
    else more(f.emoji, 1);
  }
  for (const [emoji, n] of Object.entries(m.others || {})) if (n > 0) more(emoji, n);
  for (const [emoji, n] of crowd) addFloat(lane, emoji, n, `lane-${Math.floor(Math.random() * LANES)}`);
}

function addFloat(place, emoji, n, where) {
  const floats = place.querySelectorAll(':scope > .float');
  if (floats.length >= MAX_FLOATS) floats[0].remove();
  const f = h('span', { class: ['float', where], 'aria-hidden': 'true', 'data-emoji': emoji, 'data-testid': 'reaction-float' },
    emoji, n > 1 ? h('span', { class: 'float-count' }, `×${n}`) : null);
  place.append(f);
  setTimeout(() => f.remove(), FLOAT_FOR);
}
