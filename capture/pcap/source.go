package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// packetSource reads the packets of a pcap or pcapng file one at a time,
// numbering them as Wireshark does (every packet block is a frame, 1-based)
// and naming the link type of each.
type packetSource struct {
	format   string // "pcap" | "pcapng"
	pcap     *pcapgo.Reader
	ng       *pcapgo.NgReader
	link     layers.LinkType // pcap: the file's link type
	frame    int64
	counter  *countingReader
	names    map[netip.Addr]string // pcapng name resolution records
	nNames   int
	app      string // pcapng shb_userappl
	res      string // timestamp resolution, for Info
	linkSeen map[layers.LinkType]bool
	lastLink layers.LinkType
}

// countingReader counts the bytes read from the input, for progress and
// for byte offsets in error messages. For pcapng it also watches the
// blocks go by for Decryption Secrets Blocks, which pcapgo skips.
type countingReader struct {
	r    io.Reader
	n    int64
	scan *ngScanner
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.scan != nil && n > 0 {
		c.scan.feed(p[:n], c.n)
	}
	c.n += int64(n)
	return n, err
}

const (
	magicPcapMicroLE = 0xa1b2c3d4
	magicPcapNanoLE  = 0xa1b23c4d
	magicPcapng      = 0x0a0d0d0a
)

// openSource sniffs the format from the first bytes and opens the matching
// pcapgo reader. It fails only when the file cannot be used at all.
func openSource(r io.Reader, name string) (*packetSource, error) {
	// The block scanner sees every byte from the start (the sniffing
	// below already reads ahead); it is dropped unless the file is pcapng.
	cr := &countingReader{r: r, scan: &ngScanner{}}
	br := bufio.NewReaderSize(cr, 256<<10)
	head, err := br.Peek(4)
	if len(head) == 0 {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "the file is empty; expected a pcap or pcapng capture"}
		}
		return nil, &Error{File: name, Msg: "cannot read", Err: err}
	}
	if len(head) < 4 {
		return nil, &Error{File: name, Msg: fmt.Sprintf("the file is only %d bytes long; a pcap or pcapng capture starts with a 24- or 28-byte header (truncated file?)", len(head))}
	}
	s := &packetSource{counter: cr, names: map[netip.Addr]string{}, linkSeen: map[layers.LinkType]bool{}}
	le := binary.LittleEndian.Uint32(head)
	be := binary.BigEndian.Uint32(head)
	switch {
	case le == magicPcapng:
		s.format = "pcapng"
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, headerError(name, "pcapng", err)
		}
		s.ng = ng
		s.app = ng.SectionInfo().Application
		s.pollNames()
	case le == magicPcapMicroLE || be == magicPcapMicroLE || le == magicPcapNanoLE || be == magicPcapNanoLE:
		s.format = "pcap"
		cr.scan = nil
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, headerError(name, "pcap", err)
		}
		s.pcap = pr
		s.link = pr.LinkType()
		s.res = "microsecond"
		if pr.Resolution() == gopacket.TimestampResolutionNanosecond {
			s.res = "nanosecond"
		}
	case head[0] == 0x1f && head[1] == 0x8b:
		return nil, &Error{File: name, Msg: "the file is gzip-compressed; decompress it first (gunzip -k FILE) and analyze the .pcap/.pcapng inside"}
	default:
		return nil, &Error{File: name, Msg: fmt.Sprintf("not a pcap or pcapng capture: unknown magic number % x (pcap starts with d4 c3 b2 a1 or a1 b2 c3 d4, pcapng with 0a 0d 0d 0a)", head)}
	}
	return s, nil
}

func headerError(name, format string, err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{File: name, Msg: fmt.Sprintf("the %s file header is cut short (truncated file?)", format)}
	case errors.Is(err, pcapgo.ErrNgVersionMismatch):
		return &Error{File: name, Msg: "unsupported pcapng version (only 1.0 is defined)"}
	}
	return &Error{File: name, Msg: fmt.Sprintf("invalid %s file header", format), Err: err}
}

// next returns the next packet; the data is only valid until the next call.
func (s *packetSource) next() (data []byte, ci gopacket.CaptureInfo, link layers.LinkType, err error) {
	if s.ng != nil {
		data, ci, err = s.ng.ZeroCopyReadPacketData()
		if err != nil {
			return nil, ci, 0, err
		}
		if len(ci.AncillaryData) > 0 {
			if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				link = lt
			}
		}
		if s.ng.NNames() != s.nNames {
			s.pollNames()
		}
	} else {
		data, ci, err = s.pcap.ZeroCopyReadPacketData()
		if err != nil {
			return nil, ci, 0, err
		}
		link = s.link
	}
	s.frame++
	if link != s.lastLink || s.frame == 1 {
		s.linkSeen[link] = true
		s.lastLink = link
	}
	return data, ci, link, nil
}

// pollNames copies new name resolution records (pcapng NRB).
func (s *packetSource) pollNames() {
	n := s.ng.NNames()
	for i := s.nNames; i < n; i++ {
		rec, err := s.ng.Name(i)
		if err != nil || len(rec.Names) == 0 {
			continue
		}
		if ip, ok := rec.Addr.(*pcapgo.NgIPAddress); ok && ip.Addr.IsValid() {
			s.names[ip.Addr.Unmap()] = rec.Names[0]
		}
	}
	s.nNames = n
}

// hasSecrets reports whether Decryption Secrets Blocks were read and not
// taken yet.
func (s *packetSource) hasSecrets() bool {
	return s.counter.scan != nil && len(s.counter.scan.blocks) > 0
}

// takeSecrets returns the Decryption Secrets Blocks read so far.
func (s *packetSource) takeSecrets() []secretsBlock {
	if s.counter.scan == nil {
		return nil
	}
	b := s.counter.scan.blocks
	s.counter.scan.blocks = nil
	return b
}

// offset is the number of bytes consumed from the input so far (including
// what the readers buffered ahead).
func (s *packetSource) offset() int64 { return s.counter.n }

func linkName(lt layers.LinkType) string {
	switch lt {
	case layers.LinkTypeNull:
		return "NULL (BSD loopback)"
	case layers.LinkTypeLoop:
		return "LOOP (OpenBSD loopback)"
	case layers.LinkTypeRaw, 12, 14:
		return "RAW (IP)"
	case layers.LinkTypeIPv4:
		return "IPV4"
	case layers.LinkTypeIPv6:
		return "IPV6"
	case layers.LinkTypeLinuxSLL:
		return "LINUX_SLL (cooked v1)"
	case layers.LinkTypeLinuxSLL2:
		return "LINUX_SLL2 (cooked v2)"
	case layers.LinkTypeEthernet:
		return "EN10MB (Ethernet)"
	}
	return fmt.Sprintf("link type %d (%s)", int(lt), lt.String())
}

// tsString formats a capture timestamp for messages.
func tsString(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// A pcapng Decryption Secrets Block (block type 10) carries secrets of a
// type; TLS key logs are type 0x544c534b ("TLSK"), the text of an NSS key
// log (pcapng draft §4.7; written by editcap --inject-secrets).
const (
	ngBlockDSB     = 0x0000000A
	ngBlockSHB     = 0x0A0D0D0A
	dsbTLSKeyLog   = 0x544c534b
	maxSecretsSize = 64 << 20
)

type secretsBlock struct {
	typ    uint32
	data   []byte
	offset int64 // file offset of the block
}

// ngScanner follows the pcapng block structure over the raw bytes of the
// file (each block starts with its type and total length) and collects
// the bodies of Decryption Secrets Blocks. It never fails: on a length
// it cannot follow it stops, and the packet reader reports the damage.
type ngScanner struct {
	hdr     [12]byte
	hn      int
	be      bool  // the current section is big-endian
	skip    int64 // bytes left to skip in the current block
	body    []byte
	need    int // DSB body bytes still to collect
	start   int64
	stopped bool
	blocks  []secretsBlock
}

func (s *ngScanner) u32(b []byte) uint32 {
	if s.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// feed scans p, which starts at file offset off.
func (s *ngScanner) feed(p []byte, off int64) {
	for len(p) > 0 && !s.stopped {
		switch {
		case s.skip > 0:
			k := int64(len(p))
			if k > s.skip {
				k = s.skip
			}
			s.skip -= k
			p = p[k:]
			off += k
		case s.need > 0:
			k := min(s.need, len(p))
			s.body = append(s.body, p[:k]...)
			s.need -= k
			p = p[k:]
			off += int64(k)
			if s.need == 0 {
				s.dsb()
			}
		default:
			if s.hn == 0 {
				s.start = off
			}
			// The type first: a section header needs 12 bytes (its
			// byte-order magic says how to read the length), others 8.
			want := 4
			if s.hn >= 4 {
				want = 8
				if binary.LittleEndian.Uint32(s.hdr[:4]) == ngBlockSHB {
					want = 12
				}
			}
			k := min(want-s.hn, len(p))
			copy(s.hdr[s.hn:], p[:k])
			s.hn += k
			p = p[k:]
			off += int64(k)
			if s.hn == want && want > 4 {
				s.block()
			}
		}
	}
}

// block starts a block whose header (8 bytes, 12 for a section header)
// was read.
func (s *ngScanner) block() {
	typ := binary.LittleEndian.Uint32(s.hdr[:4])
	read := int64(s.hn)
	s.hn = 0
	if typ == ngBlockSHB {
		switch binary.LittleEndian.Uint32(s.hdr[8:12]) {
		case 0x1A2B3C4D:
			s.be = false
		case 0x4D3C2B1A:
			s.be = true
		default:
			s.stopped = true
			return
		}
	} else {
		typ = s.u32(s.hdr[:4])
	}
	n := int64(s.u32(s.hdr[4:8]))
	if n < 12 || n%4 != 0 || n < read {
		s.stopped = true
		return
	}
	if typ == ngBlockDSB && n-8 <= maxSecretsSize {
		s.need = int(n - 8)
		s.body = s.body[:0]
		return
	}
	s.skip = n - read
}

// dsb parses a collected Decryption Secrets Block body: secrets type,
// secrets length, secrets (padded), options, trailing length.
func (s *ngScanner) dsb() {
	b := s.body
	s.body = nil
	if len(b) < 8 {
		return
	}
	typ, n := s.u32(b[:4]), int64(s.u32(b[4:8]))
	if n > int64(len(b)-8) {
		return
	}
	s.blocks = append(s.blocks, secretsBlock{typ: typ, data: append([]byte(nil), b[8:8+n]...), offset: s.start})
}
