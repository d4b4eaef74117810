// Command serve serves the rules playground's built files (site/) on
// localhost: `make playground-serve` runs it. The page needs no server
// beyond static files; any static host does.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	dir := flag.String("dir", "site", "the `DIR` to serve")
	addr := flag.String("addr", "localhost:8080", "the `ADDRESS` to listen on")
	flag.Parse()
	if _, err := os.Stat(*dir + "/autogroup.wasm"); err != nil {
		fmt.Fprintf(os.Stderr, "serve: %s has no autogroup.wasm: run make playground first\n", *dir)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "serve: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "serving %s at http://%s/ (Ctrl-C stops)\n", *dir, ln.Addr())
	srv := &http.Server{Handler: http.FileServer(http.Dir(*dir)), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "serve: %v\n", err)
		os.Exit(1)
	}
}
