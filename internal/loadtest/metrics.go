package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// serverSample is one reading of the server's /metrics.
type serverSample struct {
	at        time.Time
	cpu       float64 // process_cpu_seconds_total
	rss       float64 // process_resident_memory_bytes
	forwarded float64 // townhall_rtp_forwarded_packets_total
	late      float64 // townhall_rtp_dropped_late_total
	noSlot    float64 // townhall_rtp_dropped_no_slot_total

	// Where the RSS goes, from the Go collector.
	heapInuse  float64 // go_memstats_heap_inuse_bytes
	stackInuse float64 // go_memstats_stack_inuse_bytes
	goroutines float64 // go_goroutines

	// The relay's packets, over all peers (a node of a cluster).
	relaySent, relayReceived float64
	// nodes are the samples of each server, from scrapeAll.
	nodes []serverSample
}

// scrape reads the few series the report needs from the server's /metrics (the
// Prometheus text format; the process collector's series).
func scrape(ctx context.Context, hc *http.Client, base string) (serverSample, error) {
	s := serverSample{at: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/metrics", nil)
	if err != nil {
		return s, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("/metrics: %s", resp.Status)
	}
	found := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var dst *float64
		if metric, _, labeled := strings.Cut(name, "{"); labeled {
			// Series with labels: only the relay's, summed over its peers.
			var sum *float64
			switch metric {
			case "townhall_relay_sent_packets_total":
				sum = &s.relaySent
			case "townhall_relay_received_packets_total":
				sum = &s.relayReceived
			default:
				continue
			}
			if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
				*sum += v
			}
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			dst = &s.cpu
		case "process_resident_memory_bytes":
			dst = &s.rss
		case "townhall_rtp_forwarded_packets_total":
			dst = &s.forwarded
		case "townhall_rtp_dropped_late_total":
			dst = &s.late
		case "townhall_rtp_dropped_no_slot_total":
			dst = &s.noSlot
		case "go_memstats_heap_inuse_bytes":
			dst = &s.heapInuse
		case "go_memstats_stack_inuse_bytes":
			dst = &s.stackInuse
		case "go_goroutines":
			dst = &s.goroutines
		default:
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			*dst = v
			found++
		}
	}
	if s.rss == 0 {
		return s, fmt.Errorf("/metrics has no process_resident_memory_bytes (the process collector)")
	}
	return s, sc.Err()
}

// scrapeAll reads every server's /metrics and sums them: the cluster as one.
func scrapeAll(ctx context.Context, hc *http.Client, bases []string) (serverSample, error) {
	var sum serverSample
	for _, b := range bases {
		s, err := scrape(ctx, hc, b)
		if err != nil {
			return sum, fmt.Errorf("%s: %w", b, err)
		}
		sum.cpu += s.cpu
		sum.rss += s.rss
		sum.forwarded += s.forwarded
		sum.late += s.late
		sum.noSlot += s.noSlot
		sum.heapInuse += s.heapInuse
		sum.stackInuse += s.stackInuse
		sum.goroutines += s.goroutines
		sum.relaySent += s.relaySent
		sum.relayReceived += s.relayReceived
		sum.nodes = append(sum.nodes, s)
	}
	sum.at = time.Now()
	return sum, nil
}

// selfCPU returns the CPU time this process has used, user and system.
func selfCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// threadCPU returns the CPU time of the calling thread (lock it first).
func threadCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
