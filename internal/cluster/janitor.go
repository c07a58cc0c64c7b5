package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// janitorEvery is how often the first live node (by name) forgets what dead
// nodes left behind: their users' presence and their share of the counters.
const janitorEvery = 5 * time.Second

func (c *Cluster) janitor() {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	c.forget(ctx, func(node string) bool { return node == c.self.Name }) // a fresh start holds no socket yet
	cancel()
	t := time.NewTicker(janitorEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		live := c.nodes.Live()
		if len(live) == 0 || live[0].Name != c.self.Name {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c.forget(ctx, func(node string) bool { return !c.nodes.isLive(node) })
		cancel()
	}
}

// forget removes the presence entries and counts written by the nodes dead says.
func (c *Cluster) forget(ctx context.Context, dead func(node string) bool) {
	c.presence.f.each(func(user string, v cached[presenceValue]) {
		if dead(v.v.Node) {
			err := c.presence.kv.Delete(ctx, user, jetstream.LastRevision(v.rev))
			if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
				c.log.Debug("forgetting a dead node's user", "user", user, "err", err)
			}
		}
	})
	keys, err := c.counters.kv.ListKeys(ctx)
	if err != nil {
		return
	}
	for key := range keys.Keys() {
		e, err := c.counters.kv.Get(ctx, key)
		if err != nil {
			continue
		}
		counts := map[string]int{}
		if json.Unmarshal(e.Value(), &counts) != nil {
			continue
		}
		var gone []string
		for node := range counts {
			if dead(node) {
				gone = append(gone, node)
			}
		}
		if len(gone) == 0 {
			continue
		}
		for node := range counts {
			if slices.Contains(gone, node) {
				delete(counts, node)
			}
		}
		if len(counts) == 0 {
			_ = c.counters.kv.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
			continue
		}
		b, _ := json.Marshal(counts)
		_, _ = c.counters.kv.Update(ctx, key, b, e.Revision())
	}
}
