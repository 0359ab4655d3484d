// Command capturepprof runs an oauthlint command line as the oauthlint
// binary does, with the Go profiler served on a loopback address, so that
// a profile can be taken over just the part of a capture under load:
//
//	go run ./bench/proxybench/capturepprof -pprof 127.0.0.1:6060 -- capture --proxy 127.0.0.1:8888 ...
//	curl -s -o capture.pprof 'http://127.0.0.1:6060/debug/pprof/profile?seconds=8'
//	go tool pprof -top capture.pprof
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"

	"github.com/oauthlint/oauthlint/internal/cli"
)

func main() {
	addr := flag.String("pprof", "127.0.0.1:6060", "loopback address for /debug/pprof/")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "capturepprof:", err)
		os.Exit(2)
	}
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(100000) // one sample per 100 µs blocked
	go http.Serve(ln, nil)
	os.Exit(cli.Run(cli.System(), flag.Args()))
}
