package pcap

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/oauthlint/oauthlint/internal/pcapgen"
)

// exchangeSegments is one complete HTTP exchange as segments.
func exchangeSegments(cli, srv string, path string) []*pcapgen.Segment {
	b := &capBuilder{ts: t0}
	c := b.conn(cli, srv)
	var out []*pcapgen.Segment
	add := func(s *pcapgen.Segment) {
		b.ts = b.ts.Add(100 * time.Microsecond)
		s.TS = b.ts
		out = append(out, s)
	}
	add(&pcapgen.Segment{Src: c.cli, Dst: c.srv, Seq: c.cisn, Flags: pcapgen.SYN})
	add(&pcapgen.Segment{Src: c.srv, Dst: c.cli, Seq: c.sisn, Ack: c.cseq, Flags: pcapgen.SYN | pcapgen.ACK})
	add(&pcapgen.Segment{Src: c.cli, Dst: c.srv, Seq: c.cseq, Ack: c.sseq, Flags: pcapgen.ACK})
	req := get("fmt.test", path)
	add(c.seg(true, 0, req))
	c.advance(true, len(req))
	resp := okText("body of " + path)
	add(c.seg(false, 0, resp))
	c.advance(false, len(resp))
	add(&pcapgen.Segment{Src: c.cli, Dst: c.srv, Seq: c.cseq, Ack: c.sseq, Flags: pcapgen.FIN | pcapgen.ACK})
	return out
}

func TestLinkTypes(t *testing.T) {
	links := []pcapgen.Link{pcapgen.LinkEthernet, pcapgen.LinkVLAN, pcapgen.LinkSLL, pcapgen.LinkSLL2, pcapgen.LinkNull, pcapgen.LinkRaw}
	for _, link := range links {
		for _, addrs := range [][2]string{{"10.0.0.1:50000", "10.0.0.2:80"}, {"[fd00::1]:50000", "[fd00::2]:80"}} {
			for _, f := range []pcapgen.Format{pcapgen.FormatPcap, pcapgen.FormatPcapNano, pcapgen.FormatPcapng} {
				name := string(link) + "/" + addrs[0] + "/" + string(f)
				t.Run(name, func(t *testing.T) {
					b := newCapFormat(t, f, link)
					for _, s := range exchangeSegments(addrs[0], addrs[1], "/"+string(link)) {
						b.write(s)
					}
					exs, info := b.read(Options{})
					if len(exs) != 1 || string(exs[0].Response.Body) != "body of /"+string(link) {
						t.Fatalf("%s %v", summary(exs), info.Warnings)
					}
					if exs[0].ClientAddr != addrs[0] || exs[0].ServerAddr != addrs[1] {
						t.Errorf("addrs %s %s", exs[0].ClientAddr, exs[0].ServerAddr)
					}
					if len(info.LinkTypes) != 1 || info.Format != strings.TrimSuffix(string(f), "-nano") {
						t.Errorf("info %+v", info)
					}
				})
			}
		}
	}
}

// TestLoopLinkType covers OpenBSD's DLT_LOOP (108): the address family is
// big-endian there.
func TestLoopLinkType(t *testing.T) {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	w.WriteFileHeader(65535, layers.LinkTypeLoop)
	for _, s := range exchangeSegments("10.0.0.1:50000", "10.0.0.2:80", "/loop") {
		raw := pcapgen.FrameTCP(pcapgen.LinkRaw, s)
		frame := append([]byte{0, 0, 0, 2}, raw...)
		w.WritePacket(gopacket.CaptureInfo{Timestamp: s.TS, CaptureLength: len(frame), Length: len(frame)}, frame)
	}
	exs, _, err := Read(&buf, "loop.pcap", Options{})
	if err != nil || len(exs) != 1 {
		t.Fatalf("%v %s", err, summary(exs))
	}
}

// bigEndianPcap rewrites a little-endian pcap as big-endian, as written on
// SPARC or PowerPC.
func bigEndianPcap(t *testing.T, le []byte) []byte {
	t.Helper()
	out := make([]byte, len(le))
	copy(out, le)
	for _, off := range []int{0, 16, 20} {
		binary.BigEndian.PutUint32(out[off:], binary.LittleEndian.Uint32(le[off:]))
	}
	for _, off := range []int{4, 6} {
		binary.BigEndian.PutUint16(out[off:], binary.LittleEndian.Uint16(le[off:]))
	}
	for p := 24; p+16 <= len(le); {
		for i := 0; i < 4; i++ {
			binary.BigEndian.PutUint32(out[p+4*i:], binary.LittleEndian.Uint32(le[p+4*i:]))
		}
		p += 16 + int(binary.LittleEndian.Uint32(le[p+8:]))
	}
	return out
}

func TestPcapByteOrdersAndResolutions(t *testing.T) {
	for _, f := range []pcapgen.Format{pcapgen.FormatPcap, pcapgen.FormatPcapNano} {
		b := newCapFormat(t, f, pcapgen.LinkEthernet)
		segs := exchangeSegments("10.0.0.1:50000", "10.0.0.2:80", "/order")
		segs[3].TS = segs[3].TS.Add(123 * time.Nanosecond) // sub-microsecond part
		for _, s := range segs {
			b.write(s)
		}
		le := b.bytes()
		for name, data := range map[string][]byte{"le": le, "be": bigEndianPcap(t, le)} {
			exs, info, err := Read(bytes.NewReader(data), "o.pcap", Options{})
			if err != nil || len(exs) != 1 {
				t.Fatalf("%s %s: %v %s", f, name, err, summary(exs))
			}
			want := segs[3].TS
			if f == pcapgen.FormatPcap {
				want = want.Truncate(time.Microsecond)
			}
			if !exs[0].Start.Equal(want) {
				t.Errorf("%s %s: start %s, want %s", f, name, exs[0].Start.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
			}
			wantRes := map[pcapgen.Format]string{pcapgen.FormatPcap: "microsecond", pcapgen.FormatPcapNano: "nanosecond"}[f]
			if info.Resolution != wantRes {
				t.Errorf("%s %s: resolution %q", f, name, info.Resolution)
			}
		}
	}
}

// nrbBlock is a pcapng name resolution block with one IPv4 record.
func nrbBlock(ip netip.Addr, name string) []byte {
	a := ip.As4()
	rec := append(a[:], []byte(name)...)
	rec = append(rec, 0)
	var body []byte
	body = binary.LittleEndian.AppendUint16(body, 1) // nrb_record_ipv4
	body = binary.LittleEndian.AppendUint16(body, uint16(len(rec)))
	body = append(body, rec...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	body = append(body, 0, 0, 0, 0) // nrb_record_end
	total := uint32(12 + len(body))
	var blk []byte
	blk = binary.LittleEndian.AppendUint32(blk, 4)
	blk = binary.LittleEndian.AppendUint32(blk, total)
	blk = append(blk, body...)
	return binary.LittleEndian.AppendUint32(blk, total)
}

func TestPcapngInterfacesAndNameResolution(t *testing.T) {
	var buf bytes.Buffer
	eth := pcapgo.DefaultNgInterface
	eth.LinkType, eth.Name = layers.LinkTypeEthernet, "eth0"
	w, err := pcapgo.NewNgWriterInterface(&buf, eth, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "test writer 1.0"}})
	if err != nil {
		t.Fatal(err)
	}
	sll2 := pcapgo.DefaultNgInterface
	sll2.LinkType, sll2.Name = layers.LinkTypeLinuxSLL2, "any"
	if _, err := w.AddInterface(sll2); err != nil {
		t.Fatal(err)
	}
	wifi := pcapgo.DefaultNgInterface
	wifi.LinkType, wifi.Name = layers.LinkTypeIEEE802_11, "wlan0"
	if _, err := w.AddInterface(wifi); err != nil {
		t.Fatal(err)
	}
	write := func(iface int, link pcapgen.Link, s *pcapgen.Segment) {
		frame := pcapgen.FrameTCP(link, s)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: s.TS, CaptureLength: len(frame), Length: len(frame), InterfaceIndex: iface}, frame); err != nil {
			t.Fatal(err)
		}
	}
	// One connection whose packets alternate between two interfaces.
	for i, s := range exchangeSegments("10.0.0.1:50000", "10.0.0.2:80", "/mixed") {
		if i%2 == 0 {
			write(0, pcapgen.LinkEthernet, s)
		} else {
			write(1, pcapgen.LinkSLL2, s)
		}
	}
	w.Flush()
	buf.Write(nrbBlock(netip.MustParseAddr("10.0.0.9"), "named.example.test"))
	// A TLS connection without SNI to the named address, and a packet on
	// an interface whose link type is not supported.
	b := &capBuilder{ts: t0.Add(time.Second)}
	c := b.conn("10.0.0.1:50001", "10.0.0.9:443")
	hello := clientHelloNoSNI()
	seg := c.seg(true, 0, string(hello))
	seg.Flags |= pcapgen.PSH
	seg.TS = t0.Add(time.Second)
	write(1, pcapgen.LinkSLL2, seg)
	write(2, pcapgen.LinkRaw, seg)
	w.Flush()
	exs, info, err := Read(&buf, "multi.pcapng", Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantSummary(t, exs, "GET http://fmt.test/mixed 200 body=body of /mixed\n")
	if info.Application != "test writer 1.0" || len(info.LinkTypes) != 3 {
		t.Errorf("info %+v", info)
	}
	if !hasWarning(info, "named.example.test:443") {
		t.Errorf("the name resolution block was not used: %v", info.Warnings)
	}
	if !hasWarning(info, "link type 105") {
		t.Errorf("no warning for the unsupported link type: %v", info.Warnings)
	}
	if exs[0].Ref.Frames[0] != 4 || exs[0].Ref.Frames[1] != 5 {
		t.Errorf("frames %v", exs[0].Ref.Frames)
	}
}

func clientHelloNoSNI() []byte {
	ch := clientHello("x")
	// Replace the server_name extension type (0) by an unknown one.
	i := bytes.Index(ch, []byte{0, 0, 0, 6, 0, 4, 0, 0, 1, 'x'})
	if i < 0 {
		panic("server_name extension not found")
	}
	ch[i+1] = 0xfe
	return ch
}

func TestNonTCPNoiseIgnored(t *testing.T) {
	var buf bytes.Buffer
	pw, _ := pcapgen.NewPacketWriter(&buf, pcapgen.FormatPcap, pcapgen.LinkEthernet)
	src, dst := netip.MustParseAddrPort("10.0.0.1:5353"), netip.MustParseAddrPort("224.0.0.251:5353")
	segs := exchangeSegments("10.0.0.1:50000", "10.0.0.2:80", "/noise")
	for i, s := range segs {
		pw.WriteUDP(s.TS, src, dst, []byte("dns-ish"))
		// An ARP frame.
		arp := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06}, make([]byte, 28)...)
		pw.WriteFrame(s.TS, arp)
		if i == 2 {
			// An IPv4 fragment of a TCP packet, and a damaged IP header.
			frag := pcapgen.FrameTCP(pcapgen.LinkEthernet, s)
			frag[14+6] |= 0x20 // more fragments
			pw.WriteFrame(s.TS, frag)
			bad := pcapgen.FrameTCP(pcapgen.LinkEthernet, s)
			bad[14] = 0x41 // IHL 1
			pw.WriteFrame(s.TS, bad)
		}
		pw.WriteTCP(s)
	}
	pw.Flush()
	exs, info, err := Read(&buf, "noise.pcap", Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantSummary(t, exs, "GET http://fmt.test/noise 200 body=body of /noise\n")
	if info.TCPPackets != int64(len(segs)) {
		t.Errorf("TCP packets %d, want %d", info.TCPPackets, len(segs))
	}
	if !hasWarning(info, "IP fragment") || !hasWarning(info, "could not be decoded") {
		t.Errorf("warnings %v", info.Warnings)
	}
}
