// The report form, for a user, a room, a chat message or an invitation
// (POST /api/v1/reports). The admins get it in their queue (/admin) with what
// the reporter saw.

import { h } from '../dom.js';
import { post } from '../api.js';
import { toast } from '../state.js';
import { field, errorBox, busy, sheet } from './ui.js';

// REASONS name the reasons the server knows (docs/api.md, "Reports").
export const REASONS = [
  ['spam', 'Spam or scams'],
  ['harassment', 'Harassment or bullying'],
  ['hate', 'Hate'],
  ['sexual', 'Sexual content'],
  ['violence', 'Violence or threats'],
  ['impersonation', 'Pretending to be someone else'],
  ['other', 'Something else'],
];

// reportSheet opens the form for reporting kind ('user', 'room', 'message',
// 'invitation') target, named what in the title.
export function reportSheet(kind, target, what) {
  sheet(`Report ${what}`, (close) => {
    const name = 'reason-' + Math.random().toString(36).slice(2);
    const radios = REASONS.map(([v, label], i) => {
      const input = h('input', { type: 'radio', name, value: v, checked: i === 0 });
      return { input, el: h('label', { class: 'check' }, input, h('span', null, label)) };
    });
    const details = field('What happened? (optional)', { name: 'details', multiline: true, rows: 3, maxlength: 1000 },
      'The admins read it, with what you see now. The person you report is not told who reported them.');
    const err = errorBox();
    const send = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send report');
    const form = h('form', { class: 'stack', 'data-testid': 'report-form' },
      h('fieldset', { class: 'stack tight' }, h('legend', null, 'Why?'), radios.map((r) => r.el)), details.el, err.el,
      h('div', { class: 'row' }, send, h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, 'Cancel')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(send, async () => {
        const reason = radios.find((r) => r.input.checked).input.value;
        if (reason === 'other' && !details.input.value.trim()) throw new Error('Say in a few words what is wrong.');
        await post('/reports', { kind, target, reason, details: details.input.value.trim() });
        close();
        toast('Thank you. The admins will look at it.', 'info', 4000);
      }, err);
    });
    return form;
  });
}
