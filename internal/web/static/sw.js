// The service worker (served at /sw.js): it shows the notifications the server
// pushes while the app is closed (Web Push: the payload is {id, kind, title,
// body, url}) and, when one is clicked, opens the app where it points.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('push', (e) => {
  let p = {};
  try {
    p = e.data ? e.data.json() : {};
  } catch {
    p = { body: e.data ? e.data.text() : '' };
  }
  e.waitUntil(self.registration.showNotification(p.title || 'townhall', {
    body: p.body || '',
    tag: p.id || undefined,
    icon: '/icons/192.png',
    badge: '/icons/192.png',
    data: { url: typeof p.url === 'string' && p.url.startsWith('/') ? p.url : '/' },
  }));
});

self.addEventListener('notificationclick', (e) => {
  e.notification.close();
  const url = new URL((e.notification.data && e.notification.data.url) || '/', self.location.origin).href;
  e.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const c of open) if (c.url === url && 'focus' in c) return c.focus();
    for (const c of open) {
      if ('navigate' in c) {
        await c.navigate(url);
        return c.focus();
      }
    }
    return self.clients.openWindow(url);
  })());
});
