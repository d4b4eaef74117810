package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, "autogroup (unknown: no build information)"},
		{"go install @v0.1.0", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.1.0"}},
			true, "autogroup v0.1.0 go1.26.0"},
		{"go build in a clone", &debug.BuildInfo{GoVersion: "go1.26.0",
			Main:     debug.Module{Version: "v0.0.0-20260101120000-0123456789ab"},
			Settings: settings("vcs", "git", "vcs.revision", "0123456789abcdef0123456789abcdef01234567", "vcs.modified", "false")},
			true, "autogroup v0.0.0-20260101120000-0123456789ab revision 0123456789ab go1.26.0"},
		{"uncommitted changes", &debug.BuildInfo{GoVersion: "go1.26.0",
			Main:     debug.Module{Version: "(devel)"},
			Settings: settings("vcs.revision", "0123456789abcdef", "vcs.modified", "true")},
			true, "autogroup (devel) revision 0123456789ab (modified) go1.26.0"},
		{"go run without VCS", &debug.BuildInfo{Main: debug.Module{Version: ""}}, true, "autogroup (devel)"},
		{"short revision", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", "abc")},
			true, "autogroup (devel) revision abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionLine(tt.info, tt.ok); got != tt.want {
				t.Errorf("versionLine() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestVersion runs the tool's --version flag and version command: both
// print the build info of this binary in one line on standard output.
func TestVersion(t *testing.T) {
	want := versionLine(debug.ReadBuildInfo()) + "\n"
	if !strings.HasPrefix(want, "autogroup ") || strings.Contains(want, "unknown") {
		t.Fatalf("versionLine(debug.ReadBuildInfo()) = %q, want the test binary's version", want)
	}
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		var stdout, stderr bytes.Buffer
		code := run(args, nil, &stdout, &stderr)
		if code != exitOK || stdout.String() != want || stderr.Len() != 0 {
			t.Errorf("autogroup %s = exit %d, stdout %q, stderr %q; want exit 0, stdout %q", strings.Join(args, " "), code, stdout.String(), stderr.String(), want)
		}
	}
}

// TestVersionGolden compares the version command's help and its usage
// errors with testdata/golden/NAME.golden.
func TestVersionGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"help-version", []string{"help", "version"}},
		{"version-argument", []string{"version", "extra"}},
		{"version-flag-argument", []string{"--version", "extra"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, nil, &stdout, &stderr)
			got := fmt.Sprintf("$ autogroup %s\n-- exit --\n%d\n-- stdout --\n%s-- stderr --\n%s",
				strings.Join(tt.args, " "), code, stdout.String(), stderr.String())
			golden(t, filepath.Join("testdata", "golden", tt.name+".golden"), got)
		})
	}
}
