// The room's sheets: the menu of a person in the room (moderation, profile,
// report) and the moderators' room settings (hands, chat, reactions, the pinned
// link, guests, ending the room).

import { h, avatar } from '../dom.js';
import { enc } from '../api.js';
import { app, toast } from '../state.js';
import { errorBox, busy, sheet, field } from './ui.js';
import { reportSheet } from './report.js';

const POLICIES = [
  ['everyone', 'Everyone can raise a hand'],
  ['followed_by_speakers', 'Only people the speakers follow'],
  ['nobody', 'Hands off: nobody can raise a hand'],
];

// CHAT_MODES are who may write in the chat (room.ChatMode), as the settings
// and the start-a-room form offer them.
export const CHAT_MODES = [
  ['everyone', 'Everyone signed in can write'],
  ['speakers', 'Only the people on stage can write'],
  ['off', 'Chat off'],
];

// SLOW_MODES are the slow modes offered, in seconds (the server takes 0 to 300).
const SLOW_MODES = [[0, 'Off'], [10, '10 seconds'], [30, '30 seconds'], [60, '1 minute'], [300, '5 minutes']];

// personSheet opens the menu of the person uid in the room of session s.
export function personSheet(s, uid) {
  const p = s.person(uid);
  const me = s.you && uid === s.you.id;
  const stageP = s.stageEntry(uid);
  const err = errorBox();
  sheet(p.display_name, (close) => {
    const act = (label, type, fields, cls = '') => {
      const b = h('button', { type: 'button', class: 'menu-item ' + cls }, label);
      b.addEventListener('click', () => busy(b, async () => { await s.send(type, fields); close(); }, err));
      return b;
    };
    const items = [];
    if (p.username && app.me) items.push(h('a', { href: `/u/${enc(p.username)}`, class: 'menu-item', onclick: close }, 'View profile'));
    if (me && stageP) items.push(act('Move to the audience', 'step_down'));
    if (!me && s.isModerator) {
      if (stageP) {
        items.push(act('Move to the audience', 'move_to_audience', { target: uid }));
        if (!stageP.muted) items.push(act('Mute', 'mute', { target: uid, hold: false }));
        if (!stageP.held) items.push(act(stageP.muted ? 'Hold mute (they cannot unmute)' : 'Mute and hold', 'mute', { target: uid, hold: true }));
        else items.push(act('Release mute', 'release_mute', { target: uid }));
        if (stageP.role === 'moderator') items.push(act('Remove moderator role', 'revoke_moderator', { target: uid }));
        else items.push(act('Make moderator', 'make_moderator', { target: uid }));
      } else if (!p.guest) {
        const pending = s.room.speak_invitations.includes(uid);
        items.push(pending ? h('p', { class: 'menu-note' }, 'Invited to speak — waiting for an answer.') : act('Invite to speak', 'invite_to_speak', { target: uid }));
      }
      if (!p.guest) {
        const muted = (s.room.chat_muted || []).includes(uid);
        items.push(act(muted ? 'Let them write in the chat again' : 'Mute in the chat', 'chat_mute', { target: uid, muted: !muted }));
      }
      items.push(act('Remove from the room', 'remove', { target: uid }, 'danger'));
    }
    if (items.length === 0) items.push(h('p', { class: 'menu-note' }, p.guest ? 'A guest, listening.' : 'Listening.'));
    if (!me && p.username && app.me) {
      const b = h('button', { type: 'button', class: 'menu-item danger', 'data-testid': 'report-person' }, `Report @${p.username}`);
      b.addEventListener('click', () => { close(); reportSheet('user', p.username, `@${p.username}`); });
      items.push(b);
    }
    return [h('div', { class: 'sheet-person' }, avatar(p, 'xl'), p.username ? h('p', { class: 'muted' }, '@' + p.username) : null),
      h('div', { class: 'menu', role: 'group', 'aria-label': 'Actions' }, items), err.el];
  });
}

// roomSettings opens the moderators' settings of the room of session s. Each
// change is sent as it is made; a refusal shows in the sheet.
export function roomSettings(s) {
  const err = errorBox();
  const saved = (text) => () => toast(text, 'info', 2500);
  sheet('Room settings', (close) => {
    const r = s.room;
    const uniq = Math.random().toString(36).slice(2);
    const radios = POLICIES.map(([v, label]) => {
      const input = h('input', { type: 'radio', name: 'policy-' + uniq, value: v, checked: r.hand_policy === v });
      input.addEventListener('change', () => {
        s.send('set_hand_policy', { policy: v }).then(saved('Hand settings saved.')).catch((e) => err.show(e.message));
      });
      return h('label', { class: 'check' }, input, h('span', null, label));
    });

    // The chat: who writes, and the slow mode, sent together (set_chat).
    const modes = CHAT_MODES.map(([v, label]) => {
      const input = h('input', { type: 'radio', name: 'chat-' + uniq, value: v, checked: r.chat_mode === v, 'data-testid': `chat-mode-${v}` });
      return { input, el: h('label', { class: 'check' }, input, h('span', null, label)) };
    });
    const slowOptions = SLOW_MODES.some(([v]) => v === r.slow_seconds) ? SLOW_MODES : [...SLOW_MODES, [r.slow_seconds, `${r.slow_seconds} seconds`]];
    const slow = h('select', { id: 'slow-' + uniq, 'data-testid': 'slow-mode' },
      slowOptions.map(([v, label]) => h('option', { value: String(v), selected: v === r.slow_seconds }, label)));
    const setChat = () => {
      const mode = modes.find((m) => m.input.checked).input.value;
      s.send('set_chat', { mode, slow_seconds: Number(slow.value) }).then(saved('Chat settings saved.')).catch((e) => err.show(e.message));
    };
    modes.forEach((m) => m.input.addEventListener('change', setChat));
    slow.addEventListener('change', setChat);

    const reactions = h('input', { type: 'checkbox', checked: Boolean(r.reactions_allowed), 'data-testid': 'reactions-allowed' });
    reactions.addEventListener('change', () => {
      s.send('set_reactions', { allowed: reactions.checked })
        .then(saved(reactions.checked ? 'Reactions are on.' : 'Reactions are off.'))
        .catch((e) => { reactions.checked = !reactions.checked; err.show(e.message); });
    });

    // The pinned link, under the room's title.
    const link = field('Link under the title', { type: 'url', value: r.pinned_link || '', placeholder: 'https://…', inputmode: 'url', 'data-testid': 'pin-input' },
      'An http:// or https:// link everyone in the room sees: an agenda, a document, a page you talk about.');
    const pin = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'pin-link' }, 'Pin the link');
    const unpin = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': 'unpin-link', hidden: !r.pinned_link }, 'Unpin');
    pin.addEventListener('click', () => busy(pin, async () => {
      const url = link.input.value.trim();
      if (!url) throw new Error('Paste a link first, or unpin the one there.');
      await s.send('pin_link', { url });
      unpin.hidden = false;
      toast('Link pinned.', 'info', 2500);
    }, err));
    unpin.addEventListener('click', () => busy(unpin, async () => {
      await s.send('pin_link', { url: '' });
      link.input.value = '';
      unpin.hidden = true;
      toast('Link unpinned.', 'info', 2500);
    }, err));

    const end = h('button', { type: 'button', class: 'btn btn-danger btn-block' }, 'End the room for everyone');
    let armed = false;
    end.addEventListener('click', () => {
      if (!armed) {
        armed = true;
        end.textContent = 'Really end it? Everyone will leave.';
        return;
      }
      busy(end, async () => { await s.send('end'); close(); }, err);
    });
    let guests = null;
    if (r.allow_guests || r.guests_closed) {
      const box = h('input', { type: 'checkbox', checked: Boolean(r.allow_guests) });
      box.addEventListener('change', () => {
        s.send('set_guests', { allowed: box.checked })
          .then(saved(box.checked ? 'Guests can join again.' : 'Closed to guests: no new guest can join.'))
          .catch((e) => { box.checked = !box.checked; err.show(e.message); });
      });
      guests = h('fieldset', { class: 'stack' }, h('legend', null, 'Guests'),
        h('label', { class: 'check' }, box, h('span', null, 'Let people without an account listen')),
        h('p', { class: 'muted' }, 'Guests already here stay. Anyone you remove cannot come back as a guest from the same browser or network.'));
    }
    const rec = h('input', { type: 'checkbox', checked: Boolean(r.recorded), 'data-testid': 'set-recording' });
    rec.addEventListener('change', () => {
      s.send('set_recording', { on: rec.checked })
        .then(saved(rec.checked ? 'Recording: everyone here was told.' : 'Recording stopped.'))
        .catch((e) => { rec.checked = !rec.checked; err.show(e.message); });
    });
    const recording = h('fieldset', { class: 'stack tight' }, h('legend', null, 'Recording'),
      h('label', { class: 'check' }, rec, h('span', null, 'Record the room for a replay')),
      h('p', { class: 'muted' }, 'Everyone here is told when recording starts; turning it off stops it at once.'));
    const cap = h('input', { type: 'checkbox', checked: Boolean(r.live_captions), 'data-testid': 'set-live-captions' });
    cap.addEventListener('change', () => {
      s.send('set_live_captions', { on: cap.checked })
        .then(saved(cap.checked ? 'Live captions on: everyone can turn on CC.' : 'Live captions off.'))
        .catch((e) => { cap.checked = !cap.checked; err.show(e.message); });
    });
    const liveCaptions = h('fieldset', { class: 'stack tight' }, h('legend', null, 'Live captions'),
      h('label', { class: 'check' }, cap, h('span', null, 'Caption what is said on stage, live')),
      h('p', { class: 'muted' }, 'Each listener chooses to show them (CC). Speech to text by the server; expect mistakes.'));
    return [
      h('fieldset', { class: 'stack tight' }, h('legend', null, 'Who can raise a hand'), radios),
      h('fieldset', { class: 'stack tight' }, h('legend', null, 'Chat'), modes.map((m) => m.el),
        h('div', { class: 'field' }, h('label', { for: slow.id }, 'Slow mode: the least time between two messages of one person'), slow)),
      h('fieldset', { class: 'stack tight' }, h('legend', null, 'Reactions'),
        h('label', { class: 'check' }, reactions, h('span', null, 'Let everyone react, guests too'))),
      h('fieldset', { class: 'stack tight' }, h('legend', null, 'Pinned link'), link.el, h('div', { class: 'row' }, pin, unpin)),
      guests, recording, liveCaptions, err.el, h('hr'), end];
  });
}
