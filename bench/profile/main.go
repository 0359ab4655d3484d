// Command profile runs an oauthlint command line exactly as the oauthlint
// binary does (cli.Run with the process's streams) under the Go profiler,
// so the whole run — reading, analysis, rules, report — can be inspected
// with go tool pprof:
//
//	go run ./bench/profile -cpu cpu.out -mem mem.out -- analyze --format json big.pcap >/dev/null
//	go tool pprof -top cpu.out
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/oauthlint/oauthlint/internal/cli"
)

func main() {
	cpu := flag.String("cpu", "", "write a CPU profile to this file")
	mem := flag.String("mem", "", "write a heap profile (in-use at the end, and allocations) to this file")
	flag.Parse()
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(2)
		}
	}
	code := cli.Run(cli.System(), flag.Args())
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	if *mem != "" {
		f, err := os.Create(*mem)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			os.Exit(2)
		}
		runtime.GC()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
		}
		f.Close()
	}
	os.Exit(code)
}
