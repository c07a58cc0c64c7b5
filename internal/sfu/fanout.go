package sfu

import (
	"net/netip"
	"runtime"
	"sync"
	"syscall"

	"github.com/townhall/townhall/internal/udpbatch"
)

// fanPool shards the fan-out of one inbound packet over the cores: the goroutine
// that received the packet writes to the first shard of the receivers itself and
// hands the others to one worker each, then waits for them, so that Forwarder's
// SetAllowed barrier still holds when receive returns. Each worker (and each
// receiving goroutine) encrypts into its own sendBatch: nothing is shared on the
// packet path but the socket.
type fanPool struct {
	t       *leanTransport
	work    []chan *fanJob
	stopped sync.WaitGroup
}

// fanShardMin is the smallest audience worth sharding. One goroutine fans a packet
// out to 1,024 receivers in about 3.5 ms (at ~3.5 µs a receiver-packet, nearly all
// of it the kernel's), a sixth of the 20 ms between two packets: latency that does
// not matter, on a core that keeps up. Sharding a smaller audience costs more than
// it saves: waking the other shard's goroutine and its idle core for every packet,
// and two threads sending into the same receiving sockets, made the whole server
// 15-20 % dearer per packet at 500 and 1,000 listeners (docs/benchmarks.md).
const fanShardMin = 1024

// fanJob is one shard of one packet's fan-out.
type fanJob struct {
	src    *member
	skip   *member
	slot   int
	p      *rtpPacket
	now    int64
	rxs    []*receiver
	sent   int
	failed int
	done   *sync.WaitGroup
}

func newFanPool(t *leanTransport) *fanPool {
	p := &fanPool{t: t}
	for range max(runtime.GOMAXPROCS(0)-1, 0) {
		ch := make(chan *fanJob, 4)
		p.work = append(p.work, ch)
		p.stopped.Add(1)
		go p.worker(ch)
	}
	return p
}

func (p *fanPool) worker(jobs chan *fanJob) {
	defer p.stopped.Done()
	b := newSendBatch(p.t)
	for j := range jobs {
		j.sent, j.failed = fanShard(j.src, j.skip, j.slot, j.p, j.now, j.rxs, b)
		b.flush()
		j.done.Done()
	}
}

func (p *fanPool) close() {
	for _, ch := range p.work {
		close(ch)
	}
	p.stopped.Wait()
}

// fanCtx is the fan-out state of one receiving goroutine.
type fanCtx struct {
	pool *fanPool
	own  *sendBatch
	jobs []fanJob
	wg   sync.WaitGroup
}

func (p *fanPool) newCtx() *fanCtx {
	return &fanCtx{pool: p, own: newSendBatch(p.t), jobs: make([]fanJob, len(p.work))}
}

// run writes p from src in slot to every receiver in rxs but skip's, sharded.
func (c *fanCtx) run(src, skip *member, slot int, p *rtpPacket, now int64, rxs []*receiver) (sent, failed int) {
	shards := len(c.jobs) + 1
	if len(rxs) < fanShardMin || shards == 1 {
		sent, failed = fanShard(src, skip, slot, p, now, rxs, c.own)
		c.own.flush()
		return sent, failed
	}
	per := (len(rxs) + shards - 1) / shards
	used := 0
	for i := range c.jobs {
		lo := min((i+1)*per, len(rxs))
		hi := min(lo+per, len(rxs))
		if lo == hi {
			break
		}
		j := &c.jobs[i]
		*j = fanJob{src: src, skip: skip, slot: slot, p: p, now: now, rxs: rxs[lo:hi], done: &c.wg}
		c.wg.Add(1)
		c.pool.work[i] <- j
		used++
	}
	sent, failed = fanShard(src, skip, slot, p, now, rxs[:min(per, len(rxs))], c.own)
	c.own.flush()
	c.wg.Wait()
	for i := range used {
		sent += c.jobs[i].sent
		failed += c.jobs[i].failed
		c.jobs[i] = fanJob{} // keep nothing alive
	}
	return sent, failed
}

// fanShard writes p from src in slot to the receivers rxs, but skip's (the
// speaker's own: nobody hears themself). On one node skip is src; on an edge src
// is the owner's slot stream and skip the speaker's member here, if any.
func fanShard(src, skip *member, slot int, p *rtpPacket, now int64, rxs []*receiver, b *sendBatch) (sent, failed int) {
	for _, r := range rxs {
		if r.m == skip {
			continue // nobody hears themself
		}
		if p.audience != audienceAll && r.m.allowed.Load() == (p.audience == audienceListeners) {
			continue // the stage gets the 20 ms stream, the listeners the joined one
		}
		if r.send(slot, src, p, now, b) {
			sent++
		} else {
			failed++
		}
	}
	return sent, failed
}

// batchSize is how many packets one sendmmsg carries.
const batchSize = 64

// sendBatch collects encrypted packets for the shared UDP socket and writes them
// with one sendmmsg per batchSize packets (internal/udpbatch: a raw system call).
type sendBatch struct {
	rc   syscall.RawConn // the shared socket (the kernel lets several threads send on it at once)
	w    *udpbatch.Writer
	bufs [][]byte
}

func newSendBatch(t *leanTransport) *sendBatch {
	b := &sendBatch{rc: t.udp, w: udpbatch.NewWriter(batchSize), bufs: make([][]byte, batchSize)}
	for i := range b.bufs {
		b.bufs[i] = make([]byte, 1500)
	}
	return b
}

// buf returns the buffer of the next packet, of capacity 1500.
func (b *sendBatch) buf() []byte { return b.bufs[b.w.Len()][:0] }

// add queues pkt (which must be the slice returned by buf) for to.
func (b *sendBatch) add(pkt []byte, to netip.AddrPort) {
	_ = b.w.Add(pkt, to) // the lean transport is IPv4 only
	if b.w.Full() {
		b.flush()
	}
}

// flush writes the queued packets. A packet the socket refuses is skipped, and
// the batch of a closed socket is dropped.
func (b *sendBatch) flush() { _ = b.w.Flush(b.rc) }
