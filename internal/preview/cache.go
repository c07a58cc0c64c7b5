package preview

import (
	"container/list"
	"sync"
)

// Cache keeps drawn cards by their content (Card.Key), the most recently used
// first, at most Max of them: a room's card changes with its live status, so
// old ones fall out as new ones come. Safe for concurrent use; two requests for
// a card not yet drawn may both draw it.
type Cache struct {
	max int

	mu      sync.Mutex
	entries map[string]*list.Element
	order   *list.List // of *entry, most recent first
}

type entry struct {
	key string
	png []byte
}

// NewCache returns a cache of at most max cards (at least 1).
func NewCache(size int) *Cache {
	return &Cache{max: max(1, size), entries: map[string]*list.Element{}, order: list.New()}
}

// PNG returns c's image, drawn once per content while it stays in the cache.
func (k *Cache) PNG(c Card) ([]byte, error) {
	key := c.Key()
	k.mu.Lock()
	if el, ok := k.entries[key]; ok {
		k.order.MoveToFront(el)
		b := el.Value.(*entry).png
		k.mu.Unlock()
		return b, nil
	}
	k.mu.Unlock()
	b, err := c.PNG()
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if el, ok := k.entries[key]; ok {
		return el.Value.(*entry).png, nil
	}
	k.entries[key] = k.order.PushFront(&entry{key: key, png: b})
	for k.order.Len() > k.max {
		last := k.order.Back()
		k.order.Remove(last)
		delete(k.entries, last.Value.(*entry).key)
	}
	return b, nil
}

// Len is how many cards the cache holds.
func (k *Cache) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.order.Len()
}
