// Command proxybench measures HTTPS MITM proxies on one machine: oauthlint
// capture (the system under test), a bare goproxy MITM on the same CA (the
// baseline) and mitmdump (the comparison). bench/proxy.sh drives it; see
// docs/proxy-bench.md.
//
//	proxybench upstream -dir D            # HTTPS upstream on loopback (JSON API + token endpoint)
//	proxybench goproxy -listen A -ca-dir C -upstream-ca F   # bare goproxy MITM, no recording
//	proxybench mitm -listen A -ca-dir C -upstream-ca F      # oauthlint's mitm package, exchanges discarded
//	proxybench load -mode throughput|latency|newconns ...   # the load generator (one JSON line out)
//	proxybench report results.jsonl       # the table, with ranges over repeats
//	proxybench freeport                   # prints a free loopback port
//	proxybench pagefault                  # what the first touch of a page costs here
//
// Every process listens on loopback only, except the upstream, which must
// answer on all of 127.0.0.0/8 (the new-connections mode gives each
// connection its own host, 127.x.y.z, so that a proxy mints a certificate
// per host): it binds the wildcard address but to the loopback device only
// (SO_BINDTODEVICE, as root) and in any case drops peers not on loopback.
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	args := os.Args[2:]
	var err error
	switch os.Args[1] {
	case "upstream":
		err = runUpstream(args)
	case "goproxy":
		err = runGoproxy(args)
	case "mitm":
		err = runMitm(args)
	case "load":
		err = runLoad(args)
	case "report":
		err = runReport(args)
	case "freeport":
		err = freePort()
	case "pagefault":
		err = runPagefault(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxybench:", err)
		os.Exit(1)
	}
}

func freePort() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return nil
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: proxybench upstream|goproxy|mitm|load|report|freeport|pagefault [flags] (see -h of each)")
	os.Exit(2)
}
