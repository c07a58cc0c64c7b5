// The public invitations of a room, an event or a person: who invited whom,
// where each stands (sent, seen, question asked, accepted, declined), and the
// last of its thread, kept current while shown.

import { h, replace, avatar } from '../dom.js';
import { get, enc } from '../api.js';
import { on } from '../state.js';
import { statusPill, inviteeName, targetTitle } from './thread.js';

// publicInvitations lists the invitations at path (an API list), refreshing
// every 5 s and at each invitation notification; destroy stops it.
export function publicInvitations(path, { showTarget = false } = {}) {
  const list = h('ul', { class: 'inv-list' });
  const el = h('section', { class: 'public-invitations', 'aria-label': 'Public invitations', hidden: true, 'data-testid': 'public-invitations' },
    h('h2', { class: 'section-title' }, 'Public invitations'), list);
  let last = '';
  let stopped = false;
  let timer = 0;
  const load = async () => {
    let r;
    try {
      r = await get(path);
    } catch {
      return;
    }
    const k = JSON.stringify(r.invitations);
    if (k === last || stopped) return;
    last = k;
    el.hidden = r.invitations.length === 0;
    replace(list, r.invitations.map((v) => {
      const lastPost = (v.thread || [])[v.thread.length - 1];
      return h('li', { class: 'inv-public', 'data-code': v.code },
        h('a', { href: `/i/${enc(v.code)}`, class: 'inv-public-link' },
          avatar(v.from, 'sm'),
          h('span', null, h('strong', null, v.from.display_name), ' invited ', h('strong', null, inviteeName(v)),
            showTarget ? [' to ', h('em', null, targetTitle(v))] : null),
          statusPill(v)),
        lastPost && lastPost.text ? h('p', { class: 'muted small inv-last' }, (lastPost.for ? lastPost.for.display_name : lastPost.author.display_name) + ': ', lastPost.text) : null);
    }));
  };
  const tick = () => {
    if (stopped) return;
    timer = setTimeout(async () => { await load(); tick(); }, 5000);
  };
  load();
  tick();
  const off = on('notification', (n) => { if (n && /^invitation/.test(n.kind)) load(); });
  return { el, destroy() { stopped = true; clearTimeout(timer); off(); } };
}
