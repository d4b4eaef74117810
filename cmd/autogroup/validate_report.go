package main

import (
	"strconv"
	"strings"

	"github.com/cognito-autogroup/cognito-autogroup/rules"
)

// validateFile is one file of validate --json.
type validateFile struct {
	File       string        `json:"file"`
	OK         bool          `json:"ok"`
	Error      string        `json:"error,omitempty"`
	Rules      int           `json:"rules"`
	Groups     int           `json:"groups"`
	GroupsFrom int           `json:"groupsFrom"`
	Problems   []problemJSON `json:"problems"`
	Warnings   []problemJSON `json:"warnings"`
}

// problemJSON is a problem or warning in JSON.
type problemJSON struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

func problemsJSON(ps []rules.Problem) []problemJSON {
	out := []problemJSON{}
	for _, p := range ps {
		out = append(out, problemJSON{p.Line, p.Column, p.Message})
	}
	return out
}

// validateOut is the JSON of validate --json.
type validateOut struct {
	Files []validateFile `json:"files"`
}

// checkFile validates one file into its report.
func (e *env) checkFile(path string) validateFile {
	name, src, err := e.readInput(path)
	f := validateFile{File: name, Problems: []problemJSON{}, Warnings: []problemJSON{}}
	if err != nil {
		f.Error = "cannot read: " + err.Error()
		return f
	}
	rs, err := rules.Parse(src)
	if err != nil {
		f.Problems = problemsJSON(rules.Problems(err))
		if len(f.Problems) == 0 {
			f.Problems = append(f.Problems, problemJSON{Message: err.Error()})
		}
		return f
	}
	f.OK = true
	f.Rules, f.Groups, f.GroupsFrom = len(rs.Rules()), len(rs.GroupNames()), len(rs.GroupPatterns())
	f.Warnings = problemsJSON(rs.Warnings())
	return f
}

// validateReport validates files and prints them as JSON or as GitHub
// annotations. It returns the exit code.
func (e *env) validateReport(files []string, asJSON bool) int {
	var out validateOut
	code := exitOK
	for _, path := range files {
		f := e.checkFile(path)
		if !f.OK {
			code = exitProblems
		}
		out.Files = append(out.Files, f)
	}
	if asJSON {
		if c := writeJSON(e, out); c != exitOK {
			return c
		}
		return code
	}
	for _, f := range out.Files {
		if f.Error != "" {
			printf(e.stdout, "%s\n", githubAnnotation("error", f.File, problemJSON{Message: f.Error}))
		}
		for _, p := range f.Problems {
			printf(e.stdout, "%s\n", githubAnnotation("error", f.File, p))
		}
		for _, p := range f.Warnings {
			printf(e.stdout, "%s\n", githubAnnotation("warning", f.File, p))
		}
	}
	return code
}

// githubAnnotation returns a GitHub Actions workflow command for p:
// "::error file=F,line=L,col=C::message", with the properties and the
// message escaped as the runner requires.
func githubAnnotation(level, file string, p problemJSON) string {
	var b strings.Builder
	b.WriteString("::" + level + " file=" + escapeProperty(file))
	if p.Line > 0 {
		b.WriteString(",line=" + strconv.Itoa(p.Line))
		if p.Column > 0 {
			b.WriteString(",col=" + strconv.Itoa(p.Column))
		}
	}
	b.WriteString("::" + escapeData(p.Message))
	return b.String()
}

// escapeData escapes a workflow command's message: %, CR and LF.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value: as
// escapeData, and : and , too.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
