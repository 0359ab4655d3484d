package rules

import (
	"errors"
	"strings"
	"testing"
)

func TestParseReportsEveryProblemWithPosition(t *testing.T) {
	rs, err := LoadDir("testdata/bad")
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("LoadDir: %v, want a LoadError", err)
	}
	got := map[string]bool{}
	for _, i := range le.Issues {
		got[i.String()] = true
	}
	for _, want := range []string{
		"testdata/bad/broken.yaml:13:1: unknown field evidance (did you mean evidence?)",
		`testdata/bad/broken.yaml:4:11: severity "severe" is not one of critical, high, medium, low, info`,
		`testdata/bad/broken.yaml:5:8: party "server" is not one of client, as, rs`,
		`testdata/bad/broken.yaml:7:13: applies-to "authorise" is not one of`,
	} {
		found := false
		for g := range got {
			if strings.HasPrefix(g, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("missing issue %q in:\n%s", want, le.Error())
		}
	}
	// Expressions are checked by Compile, every error at once.
	_, err = Compile(rs)
	if !errors.As(err, &le) {
		t.Fatalf("Compile: %v, want a LoadError", err)
	}
	msg := le.Error()
	for _, want := range []string{
		"testdata/bad/broken.yaml:8:", "undefined field 'presnt'",
		"testdata/bad/broken.yaml:9:", "condition must be a bool expression",
		"testdata/bad/broken.yaml:10:", "undefined field 'nope'",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Compile error lacks %q:\n%s", want, msg)
		}
	}
}

func TestParseYAMLSyntaxError(t *testing.T) {
	_, issues := Parse("x.yaml", []byte("id: A-B\ntitle: [unclosed\n"))
	if len(issues) == 0 || issues[0].Line == 0 || !strings.HasPrefix(issues[0].String(), "x.yaml:") {
		t.Fatalf("issues = %v", issues)
	}
}

func TestParseMissingFields(t *testing.T) {
	_, issues := Parse("m.yaml", []byte("id: lower-case\n"))
	var msgs []string
	for _, i := range issues {
		msgs = append(msgs, i.Msg)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"must look like PREFIX-NAME", "engine: 1 is required", "title is required", "condition is required", "references is required", "packs is required"} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in %s", want, all)
		}
	}
}

func TestDuplicateIDs(t *testing.T) {
	r1, _ := Parse("a.yaml", []byte(validRule("DUP-ID")))
	r2, _ := Parse("b.yaml", []byte(validRule("DUP-ID")))
	_, err := Compile([]*Rule{r1, r2})
	if err == nil || !strings.Contains(err.Error(), "already defined in a.yaml") {
		t.Fatalf("err = %v", err)
	}
}

func TestTemplateBraces(t *testing.T) {
	r, _ := Parse("t.yaml", []byte(strings.Replace(validRule("TPL-X"), "message: ok", "message: \"{{ flow.id \"", 1)))
	_, err := Compile([]*Rule{r})
	if err == nil || !strings.Contains(err.Error(), "unbalanced") {
		t.Fatalf("err = %v", err)
	}
}

func validRule(id string) string {
	return "id: " + id + `
engine: 1
title: t
severity: low
party: client
packs: [oauth2]
applies-to: [flow]
condition: "false"
message: ok
fix: ok
references: ["RFC 6749"]
`
}
