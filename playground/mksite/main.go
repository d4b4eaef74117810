// Command mksite writes the rules playground's static files (all but the
// .wasm, which the Go toolchain builds) into a directory: `make playground`
// runs it.
//
// Usage:
//
//	go run ./playground/mksite -o site -wasm-exec "$(go env GOROOT)/lib/wasm/wasm_exec.js"
package main

import (
	"flag"
	"fmt"
	"os"

	autogroup "github.com/cognito-autogroup/cognito-autogroup"
	"github.com/cognito-autogroup/cognito-autogroup/playground"
)

func main() {
	out := flag.String("o", "site", "the `DIR` to write into")
	wasmExec := flag.String("wasm-exec", "", "the Go toolchain's wasm_exec.js (`FILE`)")
	events := flag.String("events", "events", "the `DIR` of sample events")
	flag.Parse()
	if *wasmExec == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: mksite -o DIR -wasm-exec FILE [-events DIR]")
		os.Exit(2)
	}
	js, err := os.ReadFile(*wasmExec)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mksite: %v\n", err)
		os.Exit(1)
	}
	if err := playground.WriteSite(*out, autogroup.ShippedRules, os.DirFS(*events), js); err != nil {
		fmt.Fprintf(os.Stderr, "mksite: %v\n", err)
		os.Exit(1)
	}
}
