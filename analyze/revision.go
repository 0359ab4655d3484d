package analyze

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/oauthlint/oauthlint/analyze/oauth"
)

// Revisions are the MCP revisions that define authorization, oldest first.
var Revisions = []string{"2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"}

var dateVersion = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// RevisionFor maps an MCP protocol version string to the authorization
// revision that governs it: the latest revision not newer than the
// version. Versions before 2025-03-26 had no authorization ("" is
// returned); an unrecognised non-date string (a draft) maps to the newest.
func RevisionFor(version string) string {
	v := strings.TrimSpace(version)
	if v == "" {
		return ""
	}
	if !dateVersion.MatchString(v) {
		if strings.Contains(strings.ToUpper(v), "DRAFT") {
			return Revisions[len(Revisions)-1]
		}
		return ""
	}
	rev := ""
	for _, r := range Revisions {
		if r <= v {
			rev = r
		}
	}
	return rev
}

// IsRevision reports whether s names a known revision.
func IsRevision(s string) bool {
	for _, r := range Revisions {
		if r == s {
			return true
		}
	}
	return false
}

type versionEvidence struct {
	version  string
	what     string
	priority int // lower wins
	id       int
	ref      string
}

// detectRevision finds the MCP protocol version the flow's resource
// speaks. The negotiated version (initialize result) wins over the
// MCP-Protocol-Version header, which wins over the version the client
// proposed in its initialize request.
func (c *correlator) detectRevision(f *Flow) MCPInfo {
	if r := c.opts.MCPRevision; r != "" && r != "auto" {
		return MCPInfo{Revision: r, Source: "forced by --mcp-revision " + r, Forced: true, Detected: true}
	}
	target := oauth.WithoutQuery(f.Resource)
	if target == "" {
		return MCPInfo{Source: "no protected resource in the flow: judged as plain OAuth"}
	}
	origin := oauth.Origin(target)
	anchor := flowAnchor(f)
	var best *versionEvidence
	var sawMCP string // ref of the first MCP message to the resource
	consider := func(e versionEvidence) {
		if e.version == "" {
			return
		}
		if best == nil || e.priority < best.priority ||
			(e.priority == best.priority && abs(e.id-anchor) < abs(best.id-anchor)) {
			cp := e
			best = &cp
		}
	}
	for _, m := range c.byOrigin()[origin] {
		h := m.HTTP
		if h.Endpoint != target && !(h.Origin == origin && isMCPRequest(h)) {
			continue
		}
		if h.Endpoint != target && h.Path != "" && strings.HasPrefix(h.Path, "/.well-known/") {
			continue
		}
		seq := h.ex.Seq
		if sawMCP == "" && isMCPRequest(h) {
			sawMCP = h.Ref
		}
		if method, _ := h.RequestJSON["method"].(string); method == "initialize" {
			if params, ok := h.RequestJSON["params"].(map[string]any); ok {
				if v, ok := params["protocolVersion"].(string); ok {
					consider(versionEvidence{v, "initialize request protocolVersion", 3, seq, h.Ref})
				}
			}
			if v := initializeResult(h); v != "" {
				consider(versionEvidence{v, "initialize result protocolVersion (negotiated)", 1, seq, h.Ref})
			}
		}
		if vs := h.RequestHeaders["mcp-protocol-version"]; len(vs) > 0 {
			consider(versionEvidence{vs[0], "MCP-Protocol-Version request header", 2, seq, h.Ref})
		}
		if meta, ok := h.RequestJSON["params"].(map[string]any); ok {
			if mm, ok := meta["_meta"].(map[string]any); ok {
				if v, ok := mm["io.modelcontextprotocol/protocolVersion"].(string); ok {
					consider(versionEvidence{v, "_meta protocolVersion", 2, seq, h.Ref})
				}
			}
		}
	}
	if best == nil {
		if sawMCP != "" {
			// MCP 2025-06-18 basic/transports: without a version header
			// and no other way to tell, a server SHOULD assume 2025-03-26;
			// clients of later revisions MUST send the header, so its
			// absence points at the oldest revision, which also asks the
			// least of the flow (no false alarm from newer requirements).
			return MCPInfo{Detected: true, Revision: Revisions[0],
				Source: "MCP traffic at " + sawMCP + " without any protocol version: assumed " + Revisions[0] +
					" as the MCP transport spec directs (force another with --mcp-revision)"}
		}
		return MCPInfo{Source: "no MCP traffic to " + target + ": judged as plain OAuth"}
	}
	rev := RevisionFor(best.version)
	info := MCPInfo{Version: best.version, Detected: true, Revision: rev,
		Source: fmt.Sprintf("%s %q at %s", best.what, best.version, best.ref)}
	if rev == "" {
		info.Source += " (a revision without MCP authorization: judged as plain OAuth)"
	} else if rev != best.version {
		info.Source += " → authorization revision " + rev
	}
	return info
}

// initializeResult reads result.protocolVersion from an initialize
// response, whether plain JSON or a text/event-stream of JSON-RPC messages.
func initializeResult(h *HTTP) string {
	if res, ok := h.ResponseJSON["result"].(map[string]any); ok {
		if v, ok := res["protocolVersion"].(string); ok {
			return v
		}
	}
	if strings.Contains(h.ResponseMediaType, "event-stream") {
		for _, line := range strings.Split(h.ResponseBody, "\n") {
			data, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), "data:")
			if !ok {
				continue
			}
			if obj := jsonObject([]byte(strings.TrimSpace(data))); obj != nil {
				if res, ok := obj["result"].(map[string]any); ok {
					if v, ok := res["protocolVersion"].(string); ok {
						return v
					}
				}
			}
		}
	}
	return ""
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// byOrigin indexes messages by request origin, built once.
func (c *correlator) byOrigin() map[string][]*Message {
	if c.originIdx == nil {
		c.originIdx = map[string][]*Message{}
		for _, m := range c.res.Messages {
			if m.HTTP != nil {
				c.originIdx[m.HTTP.Origin] = append(c.originIdx[m.HTTP.Origin], m)
			}
		}
	}
	return c.originIdx
}
