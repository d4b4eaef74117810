package main

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cognito-autogroup/cognito-autogroup/e2e/harness"
	"github.com/cognito-autogroup/cognito-autogroup/internal/supervise"
)

// Packages built for the host.
const (
	functionPackage = "./functions/post-confirmation"
	floorPackage    = "./bench/floor"
)

// lambdaFlags are the Makefile's GOFLAGS_LAMBDA: the host builds differ from
// the Lambda build only in GOOS and GOARCH.
var lambdaFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w -buildid="}

// binaries is what the measurements run.
type binaries struct {
	function string // the function, built for the host
	retry    string // the retry queue's consumer, built for the host
	floor    string // bench/floor, built for the host
	token    string // the PreTokenGeneration function, built for the host
	rie      string // aws-lambda-rie from tools/go.mod
	sizes    sizes
}

// sizes of the arm64 Lambda build.
type sizes struct {
	Bootstrap int64 // make build-PostConfirmationFunction
	Zip       int64 // bootstrap zipped with Deflate, as sam does
}

// goEnv is the environment of the go commands: the host's GOOS and GOARCH,
// no workspace, no cgo.
func goEnv() []string {
	return supervise.Environ([]string{"GOOS", "GOARCH", "GOWORK", "CGO_ENABLED"}, "GOWORK=off", "CGO_ENABLED=0")
}

func buildAll(ctx context.Context, root, tmp string) (*binaries, error) {
	b := &binaries{
		function: filepath.Join(tmp, "function", "bootstrap"),
		retry:    filepath.Join(tmp, "assignment-retry", "bootstrap"),
		floor:    filepath.Join(tmp, "floor", "bootstrap"),
		token:    filepath.Join(tmp, "token", "bootstrap"),
	}
	for _, x := range []struct{ pkg, out string }{{functionPackage, b.function}, {harness.RetryFunctionPackage, b.retry}, {floorPackage, b.floor}, {tokenPackage, b.token}} {
		args := append(append([]string{"go", "build"}, lambdaFlags...), "-o", x.out, x.pkg)
		if _, err := supervise.Output(ctx, root, goEnv(), args...); err != nil {
			return nil, fmt.Errorf("build for the host: %w", err)
		}
	}
	var err error
	if b.rie, err = harness.RIEPath(ctx, root); err != nil {
		return nil, err
	}

	arm := filepath.Join(tmp, "arm64")
	if _, err := supervise.Output(ctx, root, supervise.Environ([]string{"GOWORK", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}, "GOWORK=off"),
		"make", "-s", "build-PostConfirmationFunction", "ARTIFACTS_DIR="+arm); err != nil {
		return nil, fmt.Errorf("the arm64 Lambda build: %w", err)
	}
	bootstrap := filepath.Join(arm, "bootstrap")
	fi, err := os.Stat(bootstrap)
	if err != nil {
		return nil, err
	}
	b.sizes.Bootstrap = fi.Size()
	if b.sizes.Zip, err = zipSize(bootstrap, filepath.Join(tmp, "function.zip")); err != nil {
		return nil, fmt.Errorf("zip the arm64 bootstrap: %w", err)
	}
	return b, nil
}

// zipSize writes bootstrap into a zip at out, compressed with Deflate at
// the default level (as sam build's zip is), and returns the zip's size.
func zipSize(bootstrap, out string) (int64, error) {
	src, err := os.Open(bootstrap)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return 0, err
	}
	f, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	h, err := zip.FileInfoHeader(fi)
	if err != nil {
		return 0, err
	}
	h.Name = "bootstrap"
	h.Method = zip.Deflate
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(w, src); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	zi, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return zi.Size(), nil
}
