package recorder

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts what recordings drop. A nil *Metrics counts nothing.
type Metrics struct {
	droppedPackets prometheus.Counter
}

// NewMetrics registers the recorder's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		droppedPackets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "townhall_recording_packets_dropped_total",
			Help: "Packets a recording left out: its ring was full, or the packet was late, repeated or not Opus.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.droppedPackets)
	}
	return m
}

func (m *Metrics) dropped(n int64) {
	if m != nil {
		m.droppedPackets.Add(float64(n))
	}
}
