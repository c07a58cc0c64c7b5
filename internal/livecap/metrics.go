package livecap

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what live captions do and drop. A nil *Metrics counts nothing.
type Metrics struct {
	segmentsDropped     prometheus.Counter
	segmentsTranscribed prometheus.Counter
	segmentsFailed      prometheus.Counter
	packetsDropped      prometheus.Counter
	latency             prometheus.Histogram
	speech              prometheus.Counter
}

// NewMetrics registers the live captions' metrics with reg (none if nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		segmentsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "townhall_caption_segments_dropped_total",
			Help: "Segments of speech left uncaptioned: the speech engine was too slow and its queue was full.",
		}),
		segmentsTranscribed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "townhall_caption_segments_transcribed_total",
			Help: "Segments of speech the engine transcribed for live captions.",
		}),
		segmentsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "townhall_caption_segments_failed_total",
			Help: "Segments of speech whose decoding or transcription failed.",
		}),
		packetsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "townhall_caption_packets_dropped_total",
			Help: "Audio packets the live captions left out: their queue was full, or the packet was not Opus or too big.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "townhall_caption_latency_seconds",
			Help:    "From the end of a segment of speech to its caption: decoding, waiting for and running the engine.",
			Buckets: []float64{0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10},
		}),
		speech: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "townhall_caption_speech_seconds_total",
			Help: "Seconds of speech transcribed for live captions.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.segmentsDropped, m.segmentsTranscribed, m.segmentsFailed, m.packetsDropped, m.latency, m.speech)
	}
	return m
}

func (m *Metrics) droppedSegment() {
	if m != nil {
		m.segmentsDropped.Inc()
	}
}

func (m *Metrics) droppedPacket() {
	if m != nil {
		m.packetsDropped.Inc()
	}
}

func (m *Metrics) failed() {
	if m != nil {
		m.segmentsFailed.Inc()
	}
}

func (m *Metrics) transcribed(latency, speech time.Duration) {
	if m != nil {
		m.segmentsTranscribed.Inc()
		m.latency.Observe(latency.Seconds())
		m.speech.Add(speech.Seconds())
	}
}
