// Answering an invitation to a conversation: accept (go to the room), decline,
// or ask a question back. Used by the notifications and invitation pages.

import { h, replace } from '../dom.js';
import { post, enc } from '../api.js';
import { app, toast } from '../state.js';
import { errorBox, busy } from './ui.js';

// answerControls returns the buttons that answer invitation invID to room roomID.
export function answerControls(invID, roomID) {
  const err = errorBox();
  const box = h('div', { class: 'answer' });
  const answer = (kind, text = '') => post(`/invitations/${enc(invID)}/answer`, { answer: kind, text });

  const accept = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'accept-invitation' }, 'Accept and join');
  const decline = h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'decline-invitation' }, 'Decline');
  const ask = h('button', { type: 'button', class: 'btn', 'data-testid': 'ask-invitation', 'aria-expanded': 'false' }, 'Ask a question');

  accept.addEventListener('click', () => busy(accept, async () => {
    await answer('accept');
    app.navigate(`/rooms/${enc(roomID)}`, { autojoin: true });
  }, err));
  decline.addEventListener('click', () => busy(decline, async () => {
    await answer('decline');
    replace(box, h('p', { class: 'muted' }, 'You declined. They have been told.'));
  }, err));
  ask.addEventListener('click', () => {
    ask.setAttribute('aria-expanded', 'true');
    const input = h('input', { type: 'text', maxlength: 280, 'aria-label': 'Your question', placeholder: 'What is it about?', 'data-testid': 'question-text', required: true });
    const send = h('button', { type: 'submit', class: 'btn btn-small' }, 'Send question');
    const form = h('form', { class: 'row question-form' }, input, send);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!input.value.trim()) { input.focus(); return; }
      busy(send, async () => {
        await answer('question', input.value.trim());
        toast('Question sent. You can still accept or decline.', 'info', 4000);
        replace(form, h('p', { class: 'muted small', 'data-testid': 'question-sent' }, 'You asked: ', h('q', null, input.value.trim())));
      }, err);
    });
    ask.after(form);
    ask.hidden = true;
    input.focus();
  });

  replace(box, h('div', { class: 'row wrap' }, accept, ask, decline), err.el);
  return box;
}
