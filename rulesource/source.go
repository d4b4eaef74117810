// Package rulesource says where a ruleset comes from and holds the parsed
// ruleset for the handlers.
//
// A Source fetches a ruleset's bytes: Embedded (the shipped ruleset), Bytes,
// File, or FromEnv, which picks one from RULES_SOURCE and RULES_FILE. A
// polled source (AWS AppConfig, named by RULES_SOURCE) fits the same
// interface: its Fetch may answer Unchanged, label the content with a
// Version, and say when to ask again (NextPoll).
//
// A Holder parses what its source fetched and keeps the result in an atomic
// pointer: handlers ask it for the ruleset on every invocation, a refresh
// swaps it atomically, and a refresh that fails to fetch or to load keeps
// the last ruleset that loaded.
//
// A ValidatorEvent is what AppConfig sends its LAMBDA validator
// (functions/rules-validator) with a version: Ruleset loads it as a Holder
// would (package poolcheck then checks that a user pool holds the groups it
// can select).
package rulesource

import (
	"context"
	"time"

	"github.com/cognito-autogroup/cognito-autogroup"
)

// Source is where a ruleset comes from.
type Source interface {
	// Name names the source in messages: a file's path, or
	// "rules.yaml (embedded)".
	Name() string
	// Fetch returns the ruleset's content. Its error says what failed
	// (reading a file, calling a service), without the content.
	Fetch(ctx context.Context) (Fetched, error)
}

// Fetched is what one Fetch returned.
type Fetched struct {
	// Rules is the ruleset's source. It is ignored when Unchanged.
	Rules []byte
	// Unchanged is true when the content is what the previous Fetch
	// returned: a polled source may answer so without sending it again.
	Unchanged bool
	// Version labels the content, "" when the source has no labels (a
	// polled source's version label, say).
	Version string
	// NextPoll is how long until the source is worth asking again; 0 means
	// never, as for content that cannot change while the process runs.
	NextPoll time.Duration
}

// EmbeddedName is the Name of Embedded.
const EmbeddedName = "rules.yaml (embedded)"

// Embedded returns the shipped ruleset, embedded in the binary
// (autogroup.ShippedRules).
func Embedded() Source { return Bytes(EmbeddedName, autogroup.ShippedRules) }

// Bytes returns a source whose content is src, named name: a ruleset a
// function embeds or builds itself.
func Bytes(name string, src []byte) Source { return bytesSource{name, src} }

type bytesSource struct {
	name string
	src  []byte
}

func (s bytesSource) Name() string { return s.name }

func (s bytesSource) Fetch(context.Context) (Fetched, error) {
	return Fetched{Rules: s.src}, nil
}

// File returns the ruleset file at path, read with readFile (os.ReadFile,
// or a fake in tests). It is read once: a file does not change under a
// running function.
func File(path string, readFile func(string) ([]byte, error)) Source {
	return fileSource{path: path, readFile: readFile, label: "ruleset file"}
}

type fileSource struct {
	path     string
	readFile func(string) ([]byte, error)
	label    string // starts a read error's message
}

func (s fileSource) Name() string { return s.path }

func (s fileSource) Fetch(context.Context) (Fetched, error) {
	b, err := s.readFile(s.path)
	if err != nil {
		return Fetched{}, &fetchError{label: s.label, err: err}
	}
	return Fetched{Rules: b}, nil
}

// fetchError is a source's failure, as "LABEL: error".
type fetchError struct {
	label string
	err   error
}

func (e *fetchError) Error() string { return e.label + ": " + e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// FromEnv returns the source the environment names: AWS AppConfig when
// RULES_SOURCE is appconfig:APPLICATION/ENVIRONMENT/PROFILE, else the file
// RULES_FILE when it is set and not empty, read with readFile, else
// Embedded. A failure to read the file is reported as "RULES_FILE: ...".
//
// The AppConfig source polls the Data API with the credentials and region
// of the Lambda environment (at AWS_ENDPOINT_URL_APPCONFIGDATA when it is
// set); while none of its configurations has loaded, Load puts in force the
// source FromEnv would return without RULES_SOURCE. A RULES_SOURCE that
// cannot be used (malformed, or no region or credentials) gives a source
// whose Fetch fails with the reason, so Load fails. Nothing is built for
// AppConfig when RULES_SOURCE is unset.
func FromEnv(getenv func(string) string, readFile func(string) ([]byte, error)) Source {
	base := Embedded()
	if path := getenv("RULES_FILE"); path != "" {
		base = fileSource{path: path, readFile: readFile, label: "RULES_FILE"}
	}
	if v := getenv("RULES_SOURCE"); v != "" {
		return appConfigFromEnv(v, getenv, base)
	}
	return base
}
