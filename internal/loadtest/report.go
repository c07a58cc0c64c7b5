package loadtest

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints r as a summary table.
func (r *Result) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("server", "%s", r.URL)
	row("speakers", "%d (talk: %s)", r.Speakers, r.Talk)
	row("listeners", "%d joined of %d (%d failed) in %.1f s", r.ListenersJoined, r.ListenersRequested, r.JoinFailures, r.JoinSeconds)
	for _, e := range r.JoinErrors {
		row("  join error", "%s", e)
	}
	row("join to first audio", "p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms", r.JoinMs.P50, r.JoinMs.P95, r.JoinMs.P99, r.JoinMs.Max)
	row("server CPU per join", "%.2f ms", r.ServerCPUPerJoinMs)
	row("measured", "%.1f s", r.DurationSeconds)
	row("packets", "%d sent, %d expected, %d received (%d bad)", r.PacketsSent, r.PacketsExpected, r.PacketsReceived, r.PacketsBad)
	row("loss", "%.3f %% (the server dropped %d inbound packets as late, %d for want of a slot)", r.LossPct, r.ServerDroppedLate, r.ServerDroppedNoSlot)
	row("latency", "p50 %.2f ms, p99 %.2f ms, max %.2f ms", r.LatencyMs.P50, r.LatencyMs.P99, r.LatencyMs.Max)
	row("server CPU", "%.3f cores, %.2f µs per packet received", r.ServerCPUCores, r.ServerUsPerPacket)
	row("server RSS", "%.1f MiB at the end, %.1f MiB at the highest (%.1f MiB before listeners, %.1f KiB per listener)",
		mib(r.ServerRSSBytes), mib(r.ServerRSSPeakBytes), mib(r.ServerRSSBaseBytes), float64(r.ServerRSSPerListenerBytes)/1024)
	if r.ServerHeapInuseBytes > 0 {
		row("server Go memory", "heap in use %.1f MiB, stacks %.1f MiB, %d goroutines",
			mib(r.ServerHeapInuseBytes), mib(r.ServerStackInuseBytes), r.ServerGoroutines)
	}
	if r.ReactionsSent > 0 {
		row("reactions", "%d sent in the window, %.2f reactions messages a second per listener", r.ReactionsSent, r.ReactionMessagesPerSec)
	}
	if p := r.ReactPhases; p != nil {
		row("reactions' cost", "server CPU %.3f cores without (%.0f s), %.3f with (%.0f s): %+.1f %% (phases of %.0f s)",
			p.QuietCPUCores, p.QuietSeconds, p.ReactCPUCores, p.ReactingSeconds, p.MorePct, p.PhaseSeconds)
	}
	for _, n := range r.Nodes {
		row("  node "+n.URL, "%d listeners, loss %.3f %%, %.3f cores, RSS %.1f MiB, relay %d packets out, %d in",
			n.Listeners, n.LossPct, n.CPUCores, mib(n.RSSBytes), n.RelaySent, n.RelayReceived)
	}
	row("generator CPU", "%.3f cores, %.2f µs per packet received", r.ClientCPUCores, r.ClientUsPerPacket)
	if f := r.Floor; f != nil {
		row("floor", "%.2f µs per packet (sendto %.2f, sendmmsg %.2f, with DF %.2f and %.2f, AES-GCM %.2f; %d destinations, %d B)",
			f.FloorUs, f.SendtoUs, f.SendmmsgUs, f.SendtoDFUs, f.SendmmsgDFUs, f.AESGCMUs, f.Sockets, f.PacketBytes)
		row("floor, a socket each", "sendto %.2f µs, sendmmsg %.2f µs", f.SocketsSendtoUs, f.SocketsSendmmsgUs)
		row("server per packet", "%.2f× the floor", r.ServerFloorFactor)
		row("generator's floor", "%.2f µs per packet received (recvmmsg %.2f, AES-GCM %.2f)", f.GeneratorUs, f.ReceiveUs, f.AESGCMUs)
		r.writeCeiling(row)
	}
	_ = tw.Flush()
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
