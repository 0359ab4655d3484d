// Command tlsgen writes a TLS capture (the traffic of bench/pcapgen sent
// through TLS 1.2 or 1.3 connections, HTTP/1.1 or HTTP/2) with its key
// log, and optionally the HAR of the same traffic. It is the input of
// bench/tls.sh.
//
//	go run ./bench/tlsgen -size 64MiB -version 1.3 -h2 -o /tmp/tls.pcap -keylog /tmp/tls.keys
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/oauthlint/oauthlint/capture"
	"github.com/oauthlint/oauthlint/capture/har"
	"github.com/oauthlint/oauthlint/capture/tlsdecrypt"
	"github.com/oauthlint/oauthlint/internal/pcapgen"
	"github.com/oauthlint/oauthlint/internal/tlsgen"
)

func main() {
	var (
		seed    = flag.Uint64("seed", 1, "random seed (the same seed gives the same file)")
		size    = flag.String("size", "64MiB", "capture size to reach (bytes, or with KiB/MiB/GiB)")
		out     = flag.String("o", "", "capture file to write (required)")
		keylog  = flag.String("keylog", "", "key log file to write (required unless -embed)")
		harPath = flag.String("har", "", "also write the same traffic as a HAR file")
		version = flag.String("version", "1.3", "TLS version: 1.2 or 1.3")
		suite   = flag.String("suite", "", "cipher suite name (default TLS_AES_128_GCM_SHA256, or TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 for 1.2)")
		h2      = flag.Bool("h2", false, "HTTP/2 (ALPN h2) instead of HTTP/1.1")
		format  = flag.String("format", "pcap", "pcap, pcap-nano or pcapng")
		embed   = flag.Bool("embed", false, "embed the keys in the capture (pcapng Decryption Secrets Blocks)")
		oauth   = flag.Float64("oauth", 0.25, "share of OAuth/MCP flows among the traffic batches")
	)
	flag.Parse()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "tlsgen:", err)
		os.Exit(1)
	}
	if *out == "" || (*keylog == "" && !*embed) {
		fmt.Fprintln(os.Stderr, "tlsgen: -o FILE and -keylog FILE (or -embed) are required")
		os.Exit(2)
	}
	n, err := parseSize(*size)
	if err != nil {
		fail(err)
	}
	opts := tlsgen.Options{Seed: *seed, HTTP2: *h2, Format: pcapgen.Format(*format), EmbedKeys: *embed}
	switch *version {
	case "1.2":
		opts.Version = 0x0303
	case "1.3":
		opts.Version = 0x0304
	default:
		fail(fmt.Errorf("-version %q: want 1.2 or 1.3", *version))
	}
	if *suite != "" {
		for id := uint16(0); id < 0xffff; id++ {
			if tlsdecrypt.SuiteName(id) == *suite {
				opts.Suite = id
				break
			}
		}
		if opts.Suite == 0 {
			fail(fmt.Errorf("-suite %q is not a suite oauthlint reads", *suite))
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		fail(err)
	}
	var kf *os.File
	if *keylog != "" {
		if kf, err = os.Create(*keylog); err != nil {
			fail(err)
		}
	}
	var hw *har.Writer
	var each func(*capture.Exchange) error
	if *harPath != "" {
		if hw, err = har.Create(*harPath, har.WriterOptions{Creator: "oauthlint tlsgen"}); err != nil {
			fail(err)
		}
		each = hw.Add
	}
	var klw *os.File
	if kf != nil {
		klw = kf
	}
	var exs int
	if klw != nil {
		exs, err = tlsgen.Generate(f, klw, opts, n, *oauth, each)
	} else {
		exs, err = tlsgen.Generate(f, nil, opts, n, *oauth, each)
	}
	if err == nil {
		err = f.Close()
	}
	if err == nil && kf != nil {
		err = kf.Close()
	}
	if err == nil && hw != nil {
		err = hw.Close()
	}
	if err != nil {
		fail(err)
	}
	st, _ := os.Stat(*out)
	fmt.Fprintf(os.Stderr, "tlsgen: %s: %d bytes, %d exchanges\n", *out, st.Size(), exs)
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suf, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suf) {
			s, mult = strings.TrimSuffix(s, suf), m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a number of bytes, or with KiB/MiB/GiB", s)
	}
	return n * mult, nil
}
