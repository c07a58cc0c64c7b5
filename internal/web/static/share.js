// Sharing a page of the app: the system share sheet where there is one (phones:
// navigator.share), the clipboard elsewhere. Every shareable page unfolds into a
// card where its link is pasted (the server's Open Graph tags).

import { h, icon } from './dom.js';
import { toast } from './state.js';

// canShareNatively: a phone's share sheet (a touch screen with navigator.share).
function canShareNatively() {
  return typeof navigator.share === 'function' && window.matchMedia('(pointer: coarse)').matches;
}

// share shares url (absolute or a path of the app) with a title.
export async function share(url, title) {
  const full = new URL(url, location.origin).href;
  if (canShareNatively()) {
    try {
      await navigator.share({ url: full, title });
      return;
    } catch (e) {
      if (e && e.name === 'AbortError') return; // the user closed the sheet
    }
  }
  try {
    await navigator.clipboard.writeText(full);
    toast('Link copied.', 'info', 2500);
  } catch {
    window.prompt('Copy this link:', full);
  }
}

// shareButton is a "Share" button for what what() returns: {url, title}.
export function shareButton(what, { small = true, label = 'Share' } = {}) {
  const b = h('button', { type: 'button', class: ['btn', small && 'btn-small', 'share-btn'], 'data-testid': 'share' }, icon('share', 'tiny'), label);
  b.addEventListener('click', () => {
    const w = what();
    share(w.url, w.title);
  });
  return b;
}
