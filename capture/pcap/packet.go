package pcap

import (
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// segment is one decoded TCP segment. Payload points into the packet
// buffer and is only valid while the packet is processed.
type segment struct {
	src, dst               netip.AddrPort
	seq, ack               uint32
	syn, ackFlag, fin, rst bool
	payload                []byte
	// missing is how many payload bytes the packet carried on the wire
	// but the capture cut (snap length): the stream has a gap after them.
	missing int
}

// decodeResult says what a packet turned out to be.
type decodeResult int

const (
	decTCP decodeResult = iota
	decNotTCP
	decFragment
	decBad
	decUnsupportedLink
)

// decoder turns raw packets into TCP segments with gopacket's
// DecodingLayerParser: the layers are decoded into preallocated structs,
// so the hot path does not allocate.
type decoder struct {
	eth  layers.Ethernet
	sll  layers.LinuxSLL
	sll2 layers.LinuxSLL2
	lo   layers.Loopback
	vlan layers.Dot1Q
	ip4  layers.IPv4
	ip6  layers.IPv6
	ext  layers.IPv6ExtensionSkipper
	tcp  layers.TCP

	parsers map[layers.LinkType]*gopacket.DecodingLayerParser
	raw4    *gopacket.DecodingLayerParser
	raw6    *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newDecoder() *decoder {
	d := &decoder{parsers: map[layers.LinkType]*gopacket.DecodingLayerParser{}, decoded: make([]gopacket.LayerType, 0, 8)}
	d.raw4 = d.parser(layers.LayerTypeIPv4)
	d.raw6 = d.parser(layers.LayerTypeIPv6)
	return d
}

func (d *decoder) parser(first gopacket.LayerType) *gopacket.DecodingLayerParser {
	p := gopacket.NewDecodingLayerParser(first)
	p.SetDecodingLayerContainer(gopacket.DecodingLayerSparse(nil))
	for _, l := range []gopacket.DecodingLayer{&d.eth, &d.sll, &d.sll2, &d.lo, &d.vlan, &d.ip4, &d.ip6, &d.ext, &d.tcp} {
		p.AddDecodingLayer(l)
	}
	// Other protocols (UDP, ARP, ICMP, …) end the decoding without an
	// error: they are simply not TCP.
	p.IgnoreUnsupported = true
	return p
}

// parserFor returns the parser for a link type, or nil when the link type
// cannot carry IP traffic oauthlint understands.
func (d *decoder) parserFor(link layers.LinkType, data []byte) *gopacket.DecodingLayerParser {
	switch link {
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		// Raw IP: the version nibble says which.
		if len(data) > 0 && data[0]>>4 == 6 {
			return d.raw6
		}
		return d.raw4
	}
	if p, ok := d.parsers[link]; ok {
		return p
	}
	var first gopacket.LayerType
	switch link {
	case layers.LinkTypeEthernet:
		first = layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		first = layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		first = layers.LayerTypeLoopback
	default:
		d.parsers[link] = nil
		return nil
	}
	p := d.parser(first)
	d.parsers[link] = p
	return p
}

// decode fills seg from one packet.
func (d *decoder) decode(link layers.LinkType, data []byte, seg *segment) decodeResult {
	p := d.parserFor(link, data)
	if p == nil {
		return decUnsupportedLink
	}
	if err := p.DecodeLayers(data, &d.decoded); err != nil {
		// A layer failed to decode: a damaged or cut packet. When the TCP
		// header itself was decoded the segment is still usable below.
		if len(d.decoded) == 0 || d.decoded[len(d.decoded)-1] != layers.LayerTypeTCP {
			return decBad
		}
	}
	var ipEnd int // offset in data where the IP packet ends on the wire
	isTCP := false
	fragment := false
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			a, _ := netip.AddrFromSlice(d.ip4.SrcIP)
			b, _ := netip.AddrFromSlice(d.ip4.DstIP)
			seg.src, seg.dst = netip.AddrPortFrom(a, 0), netip.AddrPortFrom(b, 0)
			ipEnd = offsetIn(data, d.ip4.Contents) + int(d.ip4.Length)
			if d.ip4.FragOffset != 0 || d.ip4.Flags&layers.IPv4MoreFragments != 0 {
				fragment = true
			}
		case layers.LayerTypeIPv6:
			a, _ := netip.AddrFromSlice(d.ip6.SrcIP)
			b, _ := netip.AddrFromSlice(d.ip6.DstIP)
			seg.src, seg.dst = netip.AddrPortFrom(a, 0), netip.AddrPortFrom(b, 0)
			ipEnd = offsetIn(data, d.ip6.Contents) + 40 + int(d.ip6.Length)
			if d.ip6.NextHeader == layers.IPProtocolIPv6Fragment {
				fragment = true
			}
		case layers.LayerTypeIPv6Fragment:
			fragment = true
		case layers.LayerTypeTCP:
			isTCP = true
		}
	}
	if fragment {
		return decFragment
	}
	if !isTCP {
		return decNotTCP
	}
	t := &d.tcp
	seg.src = netip.AddrPortFrom(seg.src.Addr(), uint16(t.SrcPort))
	seg.dst = netip.AddrPortFrom(seg.dst.Addr(), uint16(t.DstPort))
	seg.seq, seg.ack = t.Seq, t.Ack
	seg.syn, seg.ackFlag, seg.fin, seg.rst = t.SYN, t.ACK, t.FIN, t.RST
	seg.payload = t.Payload
	seg.missing = 0
	if p.Truncated || ipEnd > len(data) {
		// The capture kept fewer bytes than the packet had (snap length):
		// the payload continues on the wire for ipEnd-len(data) bytes.
		if ipEnd > len(data) {
			seg.missing = ipEnd - len(data)
		}
		if len(t.Contents) < 20 {
			return decBad
		}
	}
	return decTCP
}

// offsetIn returns where sub starts inside data; sub must be a slice of
// data (layers keep sub-slices of the packet), which keeps their capacity
// tied to the end of data's backing array.
func offsetIn(data, sub []byte) int {
	return cap(data) - cap(sub)
}
