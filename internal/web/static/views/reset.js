// /reset/{token}: a one-time link from an admin that sets a new password. Using
// it signs the account out everywhere; then the user logs in with the new one.

import { h } from '../dom.js';
import { get, post, enc, ApiError } from '../api.js';
import { app } from '../state.js';
import { field, errorBox, busy } from './ui.js';

export async function resetView({ params }) {
  const token = params[0];
  let info;
  try {
    info = await get('/password-reset/' + enc(token));
  } catch (e) {
    const gone = e instanceof ApiError && (e.status === 410 || e.status === 404);
    return {
      title: 'Reset link',
      el: h('section', { class: 'card narrow center' },
        h('h1', null, gone ? 'This reset link no longer works' : 'Could not check this link'),
        h('p', null, gone ? 'It was used already, or it expired. Ask an admin for a new one.' : e.message),
        h('a', { href: '/login', class: 'btn' }, 'Log in')),
    };
  }
  const pw = field('New password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 256 }, 'At least 8 characters.');
  const again = field('New password, again', { type: 'password', autocomplete: 'new-password', required: true });
  const err = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Set the new password');
  const form = h('form', { class: 'stack' }, pw.el, again.el, err.el, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    again.input.setCustomValidity(again.input.value === pw.input.value ? '' : 'The two passwords differ.');
    if (!form.reportValidity()) return;
    busy(submit, async () => {
      await post('/password-reset', { token, new_password: pw.input.value });
      if (app.me && app.me.id === info.user.id) app.me = null;
      app.navigate('/login?reset=1', {}, { replace: true });
    }, err);
  });
  return {
    title: 'New password',
    el: h('section', { class: 'card narrow' },
      h('h1', null, 'A new password'),
      h('p', { class: 'lede' }, `For @${info.user.username}. Every device signed in to this account will be signed out.`),
      form),
  };
}
