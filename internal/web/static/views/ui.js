// Pieces shared by the views: form fields, error boxes, busy buttons, sheets.

import { h, replace } from '../dom.js';

let fieldID = 0;

// field is a labelled input. attrs go on the <input> (or <textarea> with
// multiline: true).
export function field(label, attrs = {}, hint = '') {
  const id = 'f' + ++fieldID;
  const { multiline, ...rest } = attrs;
  const hintEl = hint ? h('p', { class: 'hint', id: id + '-hint' }, hint) : null;
  const input = h(multiline ? 'textarea' : 'input', { id, ...rest, 'aria-describedby': hint ? id + '-hint' : null });
  return { el: h('div', { class: 'field' }, h('label', { for: id }, label), input, hintEl), input };
}

// counted adds to a field a counter of its characters against max, counted as
// the server counts them (Unicode code points, not UTF-16 units: an emoji is
// one), and makes the form refuse more, saying the limit.
export function counted(f, max, what = 'characters') {
  const counter = h('span', { class: 'counter', 'aria-live': 'polite' });
  const update = () => {
    const n = Array.from(f.input.value).length;
    counter.textContent = `${n} / ${max}`;
    counter.classList.toggle('over', n > max);
    f.input.setCustomValidity(n > max ? `At most ${max} ${what}: this is ${n}.` : '');
  };
  f.input.addEventListener('input', update);
  const label = f.el.querySelector('label');
  const head = h('div', { class: 'field-head' });
  label.before(head);
  head.append(label, counter);
  update();
  return f;
}

// errorBox is a place for a form's error, read out when it appears.
export function errorBox() {
  const el = h('p', { class: 'form-error', role: 'alert', hidden: true });
  return {
    el,
    show(msg) { el.textContent = msg; el.hidden = !msg; },
    clear() { el.textContent = ''; el.hidden = true; },
  };
}

// busy disables a button while f runs, and reports f's error to box (or toast).
export async function busy(button, f, box) {
  if (button.disabled) return;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (box) box.clear();
  try {
    return await f();
  } catch (e) {
    if (box) box.show(e.message || String(e));
    else throw e;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

// sheet opens a modal dialog (a bottom sheet on phones). content is a function
// given close(); it returns the nodes to show. Focus goes back where it was.
export function sheet(title, content, { onClose } = {}) {
  const back = document.activeElement;
  const titleID = 'sheet-' + ++fieldID;
  const dlg = h('dialog', { class: 'sheet', 'aria-labelledby': titleID });
  const close = () => { if (dlg.open) dlg.close(); };
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (onClose) onClose();
    if (back && back.isConnected) back.focus();
  });
  dlg.addEventListener('click', (e) => { if (e.target === dlg) close(); }); // the backdrop
  const body = h('div', { class: 'sheet-body' });
  replace(dlg, h('div', { class: 'sheet-head' },
    h('h2', { id: titleID }, title),
    h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close', onclick: close }, '×')), body);
  replace(body, content(close));
  document.body.appendChild(dlg);
  dlg.showModal();
  return { dlg, close, body };
}

// copyButton copies text to the clipboard and says so.
export function copyButton(text, label = 'Copy link') {
  const b = h('button', { type: 'button', class: 'btn btn-small' }, label);
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Select the link and copy it';
    }
    setTimeout(() => { b.textContent = label; }, 2000);
  });
  return b;
}
