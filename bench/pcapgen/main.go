// Command pcapgen writes a realistic HTTP/1.1 capture (OAuth/MCP flows
// mixed with noise) deterministically from a seed, and optionally the HAR
// of the same traffic. It is the input of bench/pcap.sh.
//
//	go run ./bench/pcapgen -seed 1 -size 64MiB -o /tmp/oauth.pcap -har /tmp/oauth.har
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/oauthlint/oauthlint/internal/pcapgen"
)

func main() {
	var (
		seed    = flag.Uint64("seed", 1, "random seed (the same seed gives the same file)")
		size    = flag.String("size", "64MiB", "capture size to reach (bytes, or with KiB/MiB/GiB)")
		out     = flag.String("o", "", "capture file to write (required)")
		har     = flag.String("har", "", "also write the same traffic as a HAR file")
		format  = flag.String("format", "pcap", "pcap, pcap-nano or pcapng")
		link    = flag.String("link", "ethernet", "ethernet, sll, sll2, null, raw or vlan")
		reorder = flag.Float64("reorder", 0.005, "probability a data segment is swapped with the next")
		retrans = flag.Float64("retransmit", 0.003, "probability a data segment is retransmitted")
		oauth   = flag.Float64("oauth", 0.25, "share of OAuth/MCP flows among the traffic batches")
		ipv6    = flag.Bool("ipv6", true, "put part of the traffic on IPv6")
	)
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "pcapgen: -o FILE is required")
		os.Exit(2)
	}
	n, err := parseSize(*size)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcapgen: -size:", err)
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcapgen:", err)
		os.Exit(1)
	}
	opts := pcapgen.Options{Seed: *seed, Size: n, Format: pcapgen.Format(*format), Link: pcapgen.Link(*link),
		Impair: pcapgen.Impair{Reorder: *reorder, Retransmit: *retrans}, OAuthShare: *oauth, IPv6: *ipv6}
	var hf *os.File
	if *har != "" {
		if hf, err = os.Create(*har); err != nil {
			fmt.Fprintln(os.Stderr, "pcapgen:", err)
			os.Exit(1)
		}
		opts.HAR = hf
	}
	st, err := pcapgen.Generate(f, opts)
	if err == nil {
		err = f.Close()
	}
	if err == nil && hf != nil {
		err = hf.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcapgen:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d bytes, %d packets, %d exchanges, %d OAuth flows\n", *out, st.Bytes, st.Packets, st.Exchanges, st.OAuthFlows)
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return int64(v * float64(mult)), nil
}
