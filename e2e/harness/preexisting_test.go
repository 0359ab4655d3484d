package harness

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func TestDropPreexisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "capture.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriterNanos(f)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	write := func(sport, dport layers.TCPPort, syn, fin bool) {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 0, 0, 0, 0, 0}, DstMAC: net.HardwareAddr{0, 0, 0, 0, 0, 0}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(127, 0, 0, 1), DstIP: net.IPv4(127, 0, 0, 1)}
		tcp := &layers.TCP{SrcPort: sport, DstPort: dport, SYN: syn, FIN: fin, ACK: !syn, Window: 65535}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
			t.Fatal(err)
		}
		ts = ts.Add(time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	write(50000, 4444, true, false)  // the client's connection begins here
	write(4444, 50000, true, false)  // SYN-ACK
	write(40468, 4444, false, true)  // an older connection closes
	write(4444, 40468, false, false) // its close_notify
	write(50000, 4444, false, true)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	n, err := dropPreexisting(path)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("dropped %d connections, want 1", n)
	}
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	var ports []layers.TCPPort
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default)
		ports = append(ports, p.Layer(layers.LayerTypeTCP).(*layers.TCP).SrcPort)
	}
	if want := []layers.TCPPort{50000, 4444, 50000}; len(ports) != len(want) || ports[0] != want[0] || ports[1] != want[1] || ports[2] != want[2] {
		t.Errorf("kept packets from ports %v, want %v", ports, want)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "capture-raw.pcap")); err != nil {
		t.Errorf("the original is not kept: %v", err)
	}
}
