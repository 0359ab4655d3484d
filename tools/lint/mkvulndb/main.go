// Command mkvulndb builds a Go vulnerability database in the v1 layout that
// govulncheck reads with -db file:///abs/dir, from the OSV entries that the
// golang.org/x/vulndb module carries in data/osv. It lets scripts/lint.sh run
// govulncheck where vuln.go.dev cannot be reached but the Go module proxy can.
//
//	mkvulndb -version v0.0.0-20261105234957-e22db6528018 -out DIR
//	mkvulndb -src path/to/data/osv -out DIR
//
// With -version it fetches golang.org/x/vulndb@VERSION with `go mod
// download` (so its content is checked against the checksum database like
// any other module). DIR must not exist yet; it is written as
//
//	index/db.json       {"modified": T}
//	index/modules.json  [{"path": M, "vulns": [{"id", "modified", "fixed"}]}]
//	index/vulns.json    [{"id", "modified", "aliases"}]
//	ID/<id>.json        each OSV entry, compacted
//
// which is what golang.org/x/vulndb/cmd/indexdb writes for the same input
// (the schema of https://go.dev/doc/security/vuln/database), less the .gz
// copies that only an HTTP server needs, and with one difference: the OSV
// files in the module carry zero timestamps (the published database takes
// them from git history), so db.json's "modified" is the time of the vulndb
// module version instead, which is what govulncheck prints as "DB updated".
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

const vulndbModule = "golang.org/x/vulndb"

// entry holds the fields of an OSV entry that the indexes need.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced"`
		Fixed      string `json:"fixed"`
	} `json:"events"`
}

type moduleVuln struct {
	ID       string `json:"id"`
	Modified string `json:"modified"`
	Fixed    string `json:"fixed,omitempty"`
}

type module struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type vuln struct {
	ID       string   `json:"id"`
	Modified string   `json:"modified"`
	Aliases  []string `json:"aliases,omitempty"`
}

func main() {
	version := flag.String("version", "", "golang.org/x/vulndb module version to take data/osv from")
	src := flag.String("src", "", "directory of OSV <id>.json files (instead of -version)")
	out := flag.String("out", "", "directory to create the database in (must not exist)")
	flag.Parse()
	if *out == "" || (*version == "") == (*src == "") || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: mkvulndb (-version V | -src DIR) -out DIR")
		os.Exit(2)
	}
	if err := run(*version, *src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkvulndb:", err)
		os.Exit(1)
	}
}

func run(version, src, out string) error {
	var modTime time.Time
	if version != "" {
		dir, t, err := download(version)
		if err != nil {
			return err
		}
		src, modTime = filepath.Join(dir, "data", "osv"), t
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s already exists", out)
	}
	names, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return fmt.Errorf("no OSV entries (*.json) in %s", src)
	}
	for _, d := range []string{"index", "ID"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}

	modules := map[string]*module{}
	var vulns []vuln
	seen := map[string]bool{}
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		var e entry
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		// govulncheck fetches ID/<id>.json, so the name must match.
		if e.ID == "" || filepath.Base(name) != e.ID+".json" {
			return fmt.Errorf("%s: OSV id %q does not match the file name", name, e.ID)
		}
		if seen[e.ID] {
			return fmt.Errorf("id %s appears twice", e.ID)
		}
		seen[e.ID] = true
		if e.Modified.After(modTime) {
			modTime = e.Modified
		}
		modified := rfc3339(e.Modified)
		vulns = append(vulns, vuln{ID: e.ID, Modified: modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			m := modules[a.Package.Name]
			if m == nil {
				m = &module{Path: a.Package.Name, Vulns: []moduleVuln{}}
				modules[a.Package.Name] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: modified, Fixed: latestFixed(a.Ranges)})
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), compact.Bytes(), 0o644); err != nil {
			return err
		}
	}

	mods := make([]*module, 0, len(modules))
	for _, m := range modules {
		slices.SortStableFunc(m.Vulns, func(a, b moduleVuln) int { return strings.Compare(a.ID, b.ID) })
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(a, b *module) int { return strings.Compare(a.Path, b.Path) })
	slices.SortFunc(vulns, func(a, b vuln) int { return strings.Compare(a.ID, b.ID) })

	// modules.json is what govulncheck checks for to recognise a v1
	// database, so it is written last among the indexes.
	for _, f := range []struct {
		name string
		v    any
	}{
		{"db.json", map[string]string{"modified": rfc3339(modTime)}},
		{"vulns.json", vulns},
		{"modules.json", mods},
	} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, "index", f.name), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("mkvulndb: %d entries, %d modules, modified %s\n", len(vulns), len(mods), rfc3339(modTime))
	return nil
}

// download fetches golang.org/x/vulndb@version into the module cache and
// returns its directory and the version's time.
func download(version string) (dir string, t time.Time, err error) {
	// Run outside any module so that no go.mod or go.sum is touched.
	tmp, err := os.MkdirTemp("", "mkvulndb")
	if err != nil {
		return "", t, err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "mod", "download", "-json", vulndbModule+"@"+version)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=on")
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	var res struct {
		Dir, Info, Error string
	}
	if jerr := json.Unmarshal(b, &res); jerr == nil && res.Error != "" {
		return "", t, fmt.Errorf("go mod download %s@%s: %s", vulndbModule, version, res.Error)
	}
	if err != nil {
		return "", t, fmt.Errorf("go mod download %s@%s: %v", vulndbModule, version, err)
	}
	if res.Dir == "" || res.Info == "" {
		return "", t, fmt.Errorf("go mod download %s@%s: no Dir or Info in %s", vulndbModule, version, b)
	}
	info, err := os.ReadFile(res.Info)
	if err != nil {
		return "", t, err
	}
	var v struct{ Time time.Time }
	if err := json.Unmarshal(info, &v); err != nil {
		return "", t, fmt.Errorf("%s: %v", res.Info, err)
	}
	return res.Dir, v.Time, nil
}

// latestFixed is golang.org/x/vulndb/internal/osvutils.LatestFixed (and
// golang.org/x/vuln/internal/semver.NonSupersededFix): the latest fixed
// version in the SEMVER ranges, or "" if the vulnerability is introduced
// again after it. govulncheck skips an entry for a module at or above it
// without reading the entry, so it must never be too low.
func latestFixed(ranges []osvRange) string {
	var latest string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && before(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && before(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// before reports whether v < w for unprefixed semantic versions, as
// golang.org/x/vulndb/internal/version.Before does.
func before(v, w string) bool {
	return semver.Compare("v"+v, "v"+w) < 0
}

func rfc3339(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
