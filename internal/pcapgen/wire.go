// Package pcapgen generates realistic HTTP/1.1 captures deterministically
// from a seed: OAuth/MCP authorization flows (discovery, dynamic client
// registration, the browser leg, token, MCP calls) mixed with noise (page
// loads with compressed and chunked bodies, images, pipelining, HEAD/304,
// 100-continue uploads, TLS and non-HTTP connections, UDP), on the wire as
// TCP segments with optional reordering, retransmissions and losses. It
// writes the capture (pcap or pcapng) and, for the same traffic, a HAR, so
// that the pcap reader can be checked against the HAR reader and
// benchmarked against tshark.
package pcapgen

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Format is a capture file format.
type Format string

const (
	FormatPcap     Format = "pcap"      // microsecond timestamps
	FormatPcapNano Format = "pcap-nano" // nanosecond timestamps
	FormatPcapng   Format = "pcapng"
)

// Link is the link-layer framing written around each IP packet.
type Link string

const (
	LinkEthernet Link = "ethernet"
	LinkSLL      Link = "sll"  // Linux cooked v1 (tcpdump -i any, older)
	LinkSLL2     Link = "sll2" // Linux cooked v2 (tcpdump -i any)
	LinkNull     Link = "null" // BSD loopback
	LinkRaw      Link = "raw"  // raw IP
	LinkVLAN     Link = "vlan" // Ethernet with an 802.1Q tag
)

func (l Link) linkType() layers.LinkType {
	switch l {
	case LinkSLL:
		return layers.LinkTypeLinuxSLL
	case LinkSLL2:
		return layers.LinkTypeLinuxSLL2
	case LinkNull:
		return layers.LinkTypeNull
	case LinkRaw:
		return layers.LinkTypeRaw
	}
	return layers.LinkTypeEthernet
}

// PacketWriter writes packets to a capture file.
type PacketWriter struct {
	bw     *bufio.Writer
	pcap   *pcapgo.Writer
	ng     *pcapgo.NgWriter
	link   Link
	nano   bool
	buf    []byte
	Frames int64
}

// NewPacketWriter starts a capture file on w.
func NewPacketWriter(w io.Writer, f Format, link Link) (*PacketWriter, error) {
	if link == "" {
		link = LinkEthernet
	}
	pw := &PacketWriter{bw: bufio.NewWriterSize(w, 1<<20), link: link, buf: make([]byte, 0, 70000)}
	switch f {
	case FormatPcap, "":
		pw.pcap = pcapgo.NewWriter(pw.bw)
	case FormatPcapNano:
		pw.pcap = pcapgo.NewWriterNanos(pw.bw)
		pw.nano = true
	case FormatPcapng:
		intf := pcapgo.DefaultNgInterface
		intf.LinkType = link.linkType()
		intf.Name = "eth0"
		intf.SnapLength = 262144
		intf.TimestampResolution = 9
		ng, err := pcapgo.NewNgWriterInterface(pw.bw, intf, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "oauthlint pcapgen"}})
		if err != nil {
			return nil, err
		}
		pw.ng = ng
		pw.nano = true
		return pw, nil
	default:
		return nil, fmt.Errorf("unknown capture format %q (want pcap, pcap-nano or pcapng)", f)
	}
	if err := pw.pcap.WriteFileHeader(262144, link.linkType()); err != nil {
		return nil, err
	}
	return pw, nil
}

// Flush writes buffered packets.
func (pw *PacketWriter) Flush() error {
	if pw.ng != nil {
		if err := pw.ng.Flush(); err != nil {
			return err
		}
	}
	return pw.bw.Flush()
}

// Resolution is the timestamp resolution of the file.
func (pw *PacketWriter) Resolution() time.Duration {
	if pw.nano {
		return time.Nanosecond
	}
	return time.Microsecond
}

// WriteFrame writes an already framed packet.
func (pw *PacketWriter) WriteFrame(ts time.Time, frame []byte) error {
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(frame), Length: len(frame)}
	pw.Frames++
	if pw.ng != nil {
		return pw.ng.WritePacket(ci, frame)
	}
	return pw.pcap.WritePacket(ci, frame)
}

// TCP flags.
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
)

// Segment is one TCP segment on the wire.
type Segment struct {
	TS       time.Time
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Flags    uint8
	Payload  []byte
	// Snap, when >0, cuts the captured packet to that many bytes.
	Snap int
}

// WriteTCP frames and writes a TCP segment.
func (pw *PacketWriter) WriteTCP(s *Segment) error {
	return pw.finish(s.TS, pw.buildTCP(s), s.Snap)
}

// FrameTCP returns a TCP segment framed for a link type (tests put such
// frames into captures of their own making).
func FrameTCP(link Link, s *Segment) []byte {
	pw := &PacketWriter{link: link}
	return append([]byte(nil), pw.buildTCP(s)...)
}

// LinkType is the pcap link type number of a Link.
func (l Link) LinkType() layers.LinkType { return l.linkType() }

func (pw *PacketWriter) buildTCP(s *Segment) []byte {
	b := pw.frameIP(s.Src.Addr(), s.Dst.Addr(), 6, 32+len(s.Payload))
	t := len(b)
	b = append(b, make([]byte, 32)...)
	h := b[t:]
	binary.BigEndian.PutUint16(h[0:], s.Src.Port())
	binary.BigEndian.PutUint16(h[2:], s.Dst.Port())
	binary.BigEndian.PutUint32(h[4:], s.Seq)
	binary.BigEndian.PutUint32(h[8:], s.Ack)
	h[12] = 8 << 4 // 32-byte header: 12 bytes of options
	h[13] = s.Flags
	binary.BigEndian.PutUint16(h[14:], 502)
	// NOP NOP Timestamps (RFC 7323), as Linux sends on every segment.
	h[20], h[21], h[22], h[23] = 1, 1, 8, 10
	binary.BigEndian.PutUint32(h[24:], uint32(s.TS.UnixMilli()))
	binary.BigEndian.PutUint32(h[28:], uint32(s.TS.UnixMilli())-1)
	b = append(b, s.Payload...)
	tcpChecksum(b, t, s.Src.Addr().Is6() && !s.Src.Addr().Is4In6())
	pw.buf = b
	return b
}

// WriteUDP frames and writes a UDP datagram (noise).
func (pw *PacketWriter) WriteUDP(ts time.Time, src, dst netip.AddrPort, payload []byte) error {
	b := pw.frameIP(src.Addr(), dst.Addr(), 17, 8+len(payload))
	u := len(b)
	b = append(b, make([]byte, 8)...)
	binary.BigEndian.PutUint16(b[u:], src.Port())
	binary.BigEndian.PutUint16(b[u+2:], dst.Port())
	binary.BigEndian.PutUint16(b[u+4:], uint16(8+len(payload)))
	b = append(b, payload...)
	return pw.finish(ts, b, 0)
}

func (pw *PacketWriter) finish(ts time.Time, b []byte, snap int) error {
	pw.buf = b
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}
	if snap > 0 && snap < len(b) {
		ci.CaptureLength = snap
		b = b[:snap]
	}
	pw.Frames++
	if pw.ng != nil {
		return pw.ng.WritePacket(ci, b)
	}
	return pw.pcap.WritePacket(ci, b)
}

var (
	macA = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	macB = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
)

// frameIP writes the link header and the IP header for a payload of n
// bytes of protocol proto, and returns the buffer.
func (pw *PacketWriter) frameIP(src, dst netip.Addr, proto byte, n int) []byte {
	b := pw.buf[:0]
	v6 := src.Is6() && !src.Is4In6()
	etype := uint16(0x0800)
	if v6 {
		etype = 0x86dd
	}
	switch pw.link {
	case LinkEthernet:
		b = append(b, macB...)
		b = append(b, macA...)
		b = binary.BigEndian.AppendUint16(b, etype)
	case LinkVLAN:
		b = append(b, macB...)
		b = append(b, macA...)
		b = binary.BigEndian.AppendUint16(b, 0x8100)
		b = binary.BigEndian.AppendUint16(b, 42) // VLAN 42
		b = binary.BigEndian.AppendUint16(b, etype)
	case LinkSLL:
		// packet type, ARPHRD, address length, address (8), protocol
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = binary.BigEndian.AppendUint16(b, 6)
		b = append(b, macA...)
		b = append(b, 0, 0)
		b = binary.BigEndian.AppendUint16(b, etype)
	case LinkSLL2:
		// protocol, reserved, interface index, ARPHRD, packet type,
		// address length, address (8)
		b = binary.BigEndian.AppendUint16(b, etype)
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint32(b, 1)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = append(b, 0, 6)
		b = append(b, macA...)
		b = append(b, 0, 0)
	case LinkNull:
		fam := uint32(2)
		if v6 {
			fam = 10
		}
		b = binary.LittleEndian.AppendUint32(b, fam)
	case LinkRaw:
	}
	if v6 {
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
		b = append(b, proto, 64)
		s16, d16 := src.As16(), dst.As16()
		b = append(b, s16[:]...)
		b = append(b, d16[:]...)
		return b
	}
	ip := len(b)
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(20+n))
	b = append(b, 0, 0, 0x40, 0, 64, proto, 0, 0)
	s4, d4 := src.As4(), dst.As4()
	b = append(b, s4[:]...)
	b = append(b, d4[:]...)
	binary.BigEndian.PutUint16(b[ip+10:], ^checksum(b[ip:ip+20], 0))
	return b
}

// tcpChecksum fills the TCP checksum of the segment starting at t.
func tcpChecksum(b []byte, t int, v6 bool) {
	seg := b[t:]
	var sum uint32
	if v6 {
		sum = sumBytes(b[t-32:t], 0) // source and destination addresses
	} else {
		sum = sumBytes(b[t-8:t], 0)
	}
	sum += uint32(len(seg)) + 6
	binary.BigEndian.PutUint16(seg[16:], ^checksum(seg, sum))
}

func sumBytes(b []byte, sum uint32) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func checksum(b []byte, sum uint32) uint16 {
	sum = sumBytes(b, sum)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// WriteSecrets writes a Decryption Secrets Block holding a TLS key log
// (pcapng only), as editcap --inject-secrets does; it takes effect for
// the packets written after it.
func (pw *PacketWriter) WriteSecrets(keyLog []byte) error {
	if pw.ng == nil {
		return fmt.Errorf("decryption secrets need the pcapng format")
	}
	return pw.ng.WriteDecryptionSecretsBlock(pcapgo.DSB_SECRETS_TYPE_TLS, keyLog)
}
