package recorder

// PacketSamples returns how many samples at 48 kHz the Opus packet p lasts, from
// its TOC (RFC 6716 §3.2); an error if p is not an Opus packet. The live
// captions time their segments with it.
func PacketSamples(p []byte) (int, error) { return packetSamples(p) }
