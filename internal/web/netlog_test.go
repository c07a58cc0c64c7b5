package web_test

import (
	"fmt"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/network"
)

// netLog is what a tab sent over the network, as the browser's DevTools report it
// (chromedp enables the Network domain on every tab): the HTTP requests with the
// status they got, and the WebSockets the page opened, in order. It sees the real
// traffic between the page and the real server; nothing is mocked.
type netLog struct {
	mu      sync.Mutex
	entries []*netEntry
	byID    map[network.RequestID]*netEntry
}

// netEntry is one request (Socket false) or one WebSocket (Socket true).
type netEntry struct {
	Socket bool
	Method string
	URL    string
	Status int64 // the HTTP status; 0 while waiting
	Failed bool  // the request got no answer (the network was down)
}

func (e *netEntry) String() string {
	if e.Socket {
		return "WebSocket " + e.URL
	}
	return fmt.Sprintf("%s %s → %d (failed %v)", e.Method, e.URL, e.Status, e.Failed)
}

// record keeps the network events of a tab's listener.
func (l *netLog) record(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byID == nil {
		l.byID = map[network.RequestID]*netEntry{}
	}
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		if e.Request == nil {
			return
		}
		n := &netEntry{Method: e.Request.Method, URL: e.Request.URL}
		l.entries = append(l.entries, n)
		l.byID[e.RequestID] = n
	case *network.EventResponseReceived:
		if n := l.byID[e.RequestID]; n != nil && e.Response != nil {
			n.Status = e.Response.Status
		}
	case *network.EventLoadingFailed:
		if n := l.byID[e.RequestID]; n != nil {
			n.Failed = true
		}
	case *network.EventWebSocketCreated:
		l.entries = append(l.entries, &netEntry{Socket: true, URL: e.URL})
	}
}

// since returns copies of the entries from index i on, and the index after them.
func (l *netLog) since(i int) ([]netEntry, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []netEntry
	for _, e := range l.entries[min(i, len(l.entries)):] {
		out = append(out, *e)
	}
	return out, len(l.entries)
}

// mark is the index of the next entry: what comes after it is news.
func (l *netLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// joins are the join API calls among entries (POST .../rooms/{id}/join[?guest=1]).
func joins(entries []netEntry, roomID string) []netEntry {
	var out []netEntry
	for _, e := range entries {
		if !e.Socket && e.Method == "POST" && strings.Contains(e.URL, "/api/v1/rooms/"+roomID+"/join") {
			out = append(out, e)
		}
	}
	return out
}

// sockets are the WebSockets among entries whose URL contains part.
func sockets(entries []netEntry, part string) []netEntry {
	var out []netEntry
	for _, e := range entries {
		if e.Socket && strings.Contains(e.URL, part) {
			out = append(out, e)
		}
	}
	return out
}
