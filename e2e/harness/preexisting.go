package harness

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// dropPreexisting rewrites the pcap leg's capture without the TCP
// connections that began before it: their SYN is not in the file. The
// client of a scenario starts after tcpdump listens, so every connection
// of it begins inside the capture; one that does not is a server's own
// idle keep-alive connection from the previous leg, closed while this one
// was recorded. oauthlint rightly reports such a connection as unreadable
// (its TLS handshake predates the capture) and withholds the verdicts it
// might change, which would make the scenario's findings depend on when a
// server's idle timer fires. The original is kept beside it as
// capture-raw.pcap. It returns the number of connections dropped.
func dropPreexisting(path string) (int, error) {
	raw := path[:len(path)-len(".pcap")] + "-raw.pcap"
	if err := os.Rename(path, raw); err != nil {
		return 0, err
	}
	type pkt struct {
		ci   gopacket.CaptureInfo
		data []byte
		conn string
	}
	in, err := os.Open(raw)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", raw, err)
	}
	var pkts []pkt
	began := map[string]bool{} // by connection: whether its first packet is a SYN
	var eth layers.Ethernet
	var ip4 layers.IPv4
	var ip6 layers.IPv6
	var tcp layers.TCP
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 4)
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", raw, err)
		}
		conn := ""
		if err := parser.DecodeLayers(data, &decoded); err == nil || len(decoded) > 0 {
			var src, dst string
			isTCP := false
			for _, l := range decoded {
				switch l {
				case layers.LayerTypeIPv4:
					src, dst = ip4.SrcIP.String(), ip4.DstIP.String()
				case layers.LayerTypeIPv6:
					src, dst = ip6.SrcIP.String(), ip6.DstIP.String()
				case layers.LayerTypeTCP:
					isTCP = true
				}
			}
			if isTCP {
				a, b := fmt.Sprintf("%s:%d", src, tcp.SrcPort), fmt.Sprintf("%s:%d", dst, tcp.DstPort)
				if a > b {
					a, b = b, a
				}
				conn = a + " " + b
				if _, ok := began[conn]; !ok {
					began[conn] = tcp.SYN
				}
			}
		}
		pkts = append(pkts, pkt{ci: ci, data: append([]byte(nil), data...), conn: conn})
	}
	out, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := pcapgo.NewWriterNanos(out)
	if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
		out.Close()
		return 0, err
	}
	for _, p := range pkts {
		if p.conn != "" && !began[p.conn] {
			continue
		}
		if err := w.WritePacket(p.ci, p.data); err != nil {
			out.Close()
			return 0, err
		}
	}
	dropped := 0
	for _, ok := range began {
		if !ok {
			dropped++
		}
	}
	return dropped, out.Close()
}
