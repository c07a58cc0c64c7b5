package loadtest

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ReadResults reads every *.json Result in dir, sorted by talk mode, then
// listeners.
func ReadResults(dir string) ([]*Result, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*Result
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r Result
		if err := json.Unmarshal(b, &r); err != nil || r.URL == "" {
			continue // not a load test's result
		}
		if r.Ceiling != nil {
			r.setCeiling(r.Ceiling.Cores) // as this version computes it, on the cores of the machine it ran on
		}
		out = append(out, &r)
	}
	slices.SortFunc(out, func(a, b *Result) int {
		if c := strings.Compare(a.Talk, b.Talk); c != 0 {
			return c
		}
		return a.ListenersRequested - b.ListenersRequested
	})
	return out, nil
}

// WriteSummary prints results as a Markdown table. Memory per listener is shown
// two ways: (RSS at N − RSS at 0) ÷ N when a run with no listeners in the same
// talk mode is among the results (else the run's own base), once with the RSS at
// the end of the window and once with its highest reading; and the run's own
// in-run figure (RSS − the lowest RSS of the run) ÷ N.
func WriteSummary(w io.Writer, results []*Result) {
	base := map[string]int64{}
	for _, r := range results {
		if r.ListenersRequested == 0 {
			base[r.Talk] = r.ServerRSSBytes
		}
	}
	fmt.Fprintln(w, "| talk | listeners | joined | % of ceiling | join p95 ms | server CPU cores | server µs/packet | × floor | server RSS MiB end / peak | KiB/listener from the 0 step, end / peak | KiB/listener in-run | loss % | latency p50 / p99 / max ms | generator µs/packet |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
	ladder := false
	for _, r := range results {
		factor := "–"
		if r.ServerFloorFactor > 0 {
			factor = fmt.Sprintf("%.2f", r.ServerFloorFactor)
		}
		b, ok := base[r.Talk]
		if !ok {
			b = r.ServerRSSBaseBytes
		}
		perListener := func(rss int64) string {
			if rss == 0 || r.ListenersJoined == 0 {
				return "–"
			}
			return fmt.Sprintf("%.1f", float64(rss-b)/float64(r.ListenersJoined)/1024)
		}
		peak := "–"
		if r.ServerRSSPeakBytes > 0 {
			peak = fmt.Sprintf("%.0f", mib(r.ServerRSSPeakBytes))
		}
		share := "–"
		if r.Ceiling != nil {
			share, ladder = fmt.Sprintf("%.0f", 100*r.LoadFraction), true
		}
		inRun := "–"
		if r.ListenersJoined > 0 {
			inRun = fmt.Sprintf("%.1f", float64(r.ServerRSSPerListenerBytes)/1024)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %.0f | %.2f | %.2f | %s | %.0f / %s | %s / %s | %s | %.3f | %.1f / %.1f / %.0f | %.2f |\n",
			r.Talk, r.ListenersRequested, r.ListenersJoined, share, r.JoinMs.P95, r.ServerCPUCores, r.ServerUsPerPacket, factor,
			mib(r.ServerRSSBytes), peak, perListener(r.ServerRSSBytes), perListener(r.ServerRSSPeakBytes), inRun, r.LossPct,
			r.LatencyMs.P50, r.LatencyMs.P99, r.LatencyMs.Max, r.ClientUsPerPacket)
	}
	if ladder {
		fmt.Fprintln(w, "\nClean (loss < 0.5 %, p99 < 50 ms, every listener joined), as a share of the machine's ceiling:")
		WriteLadder(w, results)
	}
}

// Plot draws the server's CPU (cores) and RSS (MiB) against listeners, one line
// per talk mode, side by side, into a PNG file. The results of compare (another
// transport, say), if any, are drawn dashed, named compareName.
func Plot(results []*Result, compare []*Result, compareName, file string) error {
	cpu := plot.New()
	cpu.Title.Text = "server CPU"
	cpu.X.Label.Text = "listeners"
	cpu.Y.Label.Text = "cores (1 = one core)"
	rss := plot.New()
	rss.Title.Text = "server memory"
	rss.X.Label.Text = "listeners"
	rss.Y.Label.Text = "RSS, MiB"
	colors := map[string]color.Color{TalkAll: color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, TalkTurns: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}}
	type series struct {
		results []*Result
		talk    string
		name    string
		dashed  bool
	}
	all := []series{{results, TalkAll, "3 speakers all talking", false}, {results, TalkTurns, "speakers taking turns", false}}
	if len(compare) > 0 {
		all = append(all, series{compare, TalkAll, compareName + ", all talking", true}, series{compare, TalkTurns, compareName + ", turns", true})
	}
	for _, s := range all {
		talk := s.talk
		var c, m plotter.XYs
		for _, r := range s.results {
			if r.Talk == talk && (r.ListenersJoined > 0 || r.ListenersRequested == 0) {
				c = append(c, plotter.XY{X: float64(r.ListenersJoined), Y: r.ServerCPUCores})
				m = append(m, plotter.XY{X: float64(r.ListenersJoined), Y: mib(r.ServerRSSBytes)})
			}
		}
		if len(c) == 0 {
			continue
		}
		name := s.name
		for _, pl := range []struct {
			p   *plot.Plot
			xys plotter.XYs
		}{{cpu, c}, {rss, m}} {
			line, points, err := plotter.NewLinePoints(pl.xys)
			if err != nil {
				return err
			}
			line.Color, points.Color = colors[talk], colors[talk]
			points.Shape = draw.CircleGlyph{}
			if s.dashed {
				line.Dashes = []vg.Length{vg.Points(5), vg.Points(4)}
				points.Shape = draw.BoxGlyph{}
			}
			pl.p.Add(line, points)
			pl.p.Legend.Add(name, line, points)
		}
	}
	for _, p := range []*plot.Plot{cpu, rss} {
		p.Legend.Top, p.Legend.Left = true, true
		p.Add(plotter.NewGrid())
		p.Y.Min = 0
		p.X.Min = 0
	}
	const w, h = 12 * vg.Inch, 4.5 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 3, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	plots := [][]*plot.Plot{{cpu, rss}}
	canvases := plot.Align(plots, tiles, dc)
	cpu.Draw(canvases[0][0])
	rss.Draw(canvases[0][1])
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
