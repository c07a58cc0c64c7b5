package sfu

import "github.com/prometheus/client_golang/prometheus"

// metrics are the media layer's Prometheus metrics, all prefixed townhall_. Counters
// of the packet path are added once per inbound packet, not once per receiver.
type metrics struct {
	peers      prometheus.Gauge
	forwarders prometheus.Gauge

	forwardedPackets prometheus.Counter
	forwardedBytes   prometheus.Counter

	droppedUnauthorized prometheus.Counter
	droppedMalformed    prometheus.Counter
	droppedNoSlot       prometheus.Counter
	droppedWriteError   prometheus.Counter
	droppedLate         prometheus.Counter
	droppedReplayed     prometheus.Counter

	// queueDelay is how long each inbound RTP packet waited between the
	// kernel's receipt and the forwarder taking it (lean transport): the
	// forwarding loop's lateness, where a stall shows.
	queueDelay prometheus.Histogram

	relayedUplink prometheus.Counter
	relayedSlot   prometheus.Counter
	relayNoRoute  prometheus.Counter

	slotSwitches   prometheus.Counter
	consentExpired prometheus.Counter
	tcpRefused     prometheus.Counter
}

// newMetrics makes the metrics and registers them on reg, if not nil.
func newMetrics(reg *prometheus.Registry) *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		peers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "townhall_sfu_peers", Help: "Open media connections (one per participant per room).",
		}),
		forwarders: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "townhall_sfu_forwarders", Help: "Live rooms with media.",
		}),
		forwardedPackets: counter("townhall_rtp_forwarded_packets_total",
			"RTP packets written to receivers (one per receiver per inbound packet)."),
		forwardedBytes: counter("townhall_rtp_forwarded_bytes_total",
			"RTP payload bytes written to receivers."),
		droppedUnauthorized: counter("townhall_rtp_dropped_unauthorized_total",
			"Inbound RTP packets dropped because their sender may not be heard (not a speaker, or muted)."),
		droppedMalformed: counter("townhall_rtp_dropped_malformed_total",
			"Inbound RTP packets dropped because they do not parse."),
		droppedNoSlot: counter("townhall_rtp_dropped_no_slot_total",
			"Inbound RTP packets of allowed speakers dropped because the speaker is in no slot."),
		droppedWriteError: counter("townhall_rtp_dropped_write_error_total",
			"Outbound RTP packets the transport failed to write (closing connections)."),
		droppedLate: counter("townhall_rtp_dropped_late_total",
			"Inbound RTP packets dropped because they waited in the server's socket longer than 100 ms (the server is overloaded)."),
		droppedReplayed: counter("townhall_rtp_dropped_replayed_total",
			"Inbound SRTP packets dropped by replay protection (lean transport): received before, or older than the 128-packet window (RFC 3711 §3.3.2)."),
		queueDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "townhall_rtp_queue_delay_seconds",
			Help:    "How long each inbound RTP packet waited between the kernel receiving it and the forwarder taking it (lean transport): stalls of the forwarding loop (GC, scheduling, a full machine) show here.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2},
		}),
		relayedUplink: counter("townhall_sfu_relayed_uplink_packets_total",
			"Packets of speakers connected here relayed to their room's owner and standby (one per destination)."),
		relayedSlot: counter("townhall_sfu_relayed_slot_packets_total",
			"Packets of a room's slot streams relayed by its owner to the edges (one per edge)."),
		relayNoRoute: counter("townhall_sfu_relay_no_route_total",
			"Relay packets of a room this node has media for but takes no part in across nodes."),
		slotSwitches: counter("townhall_sfu_slot_switches_total",
			"Times a slot changed to a new speaker."),
		consentExpired: counter("townhall_sfu_consent_expired_total",
			"Times the lean transport stopped sending to a client because nothing authenticated came from its address for the consent timeout (RFC 7675)."),
		tcpRefused: counter("townhall_sfu_tcp_refused_total",
			"ICE-TCP connections closed as soon as accepted because their IP address had the most allowed open (lean transport)."),
	}
	if reg != nil {
		reg.MustRegister(m.peers, m.forwarders, m.forwardedPackets, m.forwardedBytes,
			m.droppedUnauthorized, m.droppedMalformed, m.droppedNoSlot, m.droppedWriteError, m.droppedLate,
			m.droppedReplayed, m.slotSwitches, m.consentExpired, m.tcpRefused,
			m.relayedUplink, m.relayedSlot, m.relayNoRoute, m.queueDelay)
	}
	return m
}
