// The thread of an invitation (its questions and answers) and its status, as
// the invitation's page, the invite sheet's sent list and /invitations show
// them. Each post says who wrote it, and "for {owner}, by {delegate}" when a
// delegate did: an office answering for a leader is shown as such.

import { h, avatar, timeAgo } from '../dom.js';
import { post, enc } from '../api.js';
import { errorBox, busy } from './ui.js';

export const STATUS_WORDS = {
  sent: 'Sent', seen: 'Seen', question: 'Question asked', accepted: 'Accepted', declined: 'Declined', expired: 'Expired',
};

// statusPill shows where an invitation stands.
export function statusPill(v) {
  const s = v.expired && v.status !== 'accepted' && v.status !== 'declined' ? 'expired' : v.status;
  return h('span', { class: `pill status-${s}`, 'data-testid': 'invitation-status', 'data-status': s }, STATUS_WORDS[s] || s);
}

// inviteeName is how an invitation names its invitee.
export function inviteeName(v) {
  return (v.to && v.to.display_name) || v.to_name || 'someone without an account yet';
}

const KIND_WORDS = { question: 'asks', reply: 'answers', accepted: 'accepts', declined: 'declines' };

// threadList draws the posts of invitation view v.
export function threadList(v) {
  const posts = v.thread || [];
  if (posts.length === 0) return h('p', { class: 'muted small thread-empty' }, 'No questions yet.');
  return h('ol', { class: 'thread', 'aria-label': 'Questions and answers' }, posts.map((p) => {
    const who = p.author || {};
    const byline = p.for
      ? [h('span', { class: 'post-by', 'data-testid': 'post-by' }, 'for ', h('strong', null, p.for.display_name), ', by ', h('strong', null, who.display_name))]
      : [h('strong', { class: 'post-author' }, who.display_name || 'Someone')];
    if (who.guest) byline.push(h('span', { class: 'tag' }, 'not signed in'));
    return h('li', { class: ['post', `post-${p.side}`, `post-${p.kind}`], 'data-testid': 'post', 'data-kind': p.kind },
      avatar(p.for || who, 'sm'),
      h('div', { class: 'post-body' },
        h('p', { class: 'post-head' }, byline, ' ', h('span', { class: 'muted small' }, KIND_WORDS[p.kind] || '', ' · ', h('time', { datetime: p.at }, timeAgo(p.at)))),
        p.text ? h('p', { class: 'post-text', 'data-testid': 'post-text' }, p.text) : null));
  }));
}

// replyForm is the inviter's side's answer box; done runs after a reply.
export function replyForm(v, done) {
  const input = h('textarea', { rows: 2, maxlength: 280, 'aria-label': 'Your answer', placeholder: 'Answer their question…', 'data-testid': 'reply-text', required: true });
  const send = h('button', { type: 'submit', class: 'btn btn-small btn-primary' }, 'Send answer');
  const err = errorBox();
  const form = h('form', { class: 'stack tight reply-form' }, input, h('div', { class: 'row' }, send), err.el);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) { input.focus(); return; }
    busy(send, async () => {
      await post(`/i/${enc(v.code)}/reply`, { text });
      input.value = '';
      if (done) await done();
    }, err);
  });
  return form;
}

// targetTitle is the title of what an invitation is to.
export function targetTitle(v) {
  return (v.room && v.room.title) || (v.event && v.event.name) || 'a conversation';
}
