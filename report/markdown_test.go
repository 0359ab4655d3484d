package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"
)

// renderMarkdown renders GitHub-flavoured Markdown the way GitHub does
// (tables, strike-through, autolinks), with raw HTML passed through so
// that an injection would show up as markup.
func renderMarkdown(t *testing.T, src []byte) *html.Node {
	t.Helper()
	md := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	var buf bytes.Buffer
	if err := md.Convert(src, &buf); err != nil {
		t.Fatal(err)
	}
	return parseHTML(t, buf.Bytes())
}

// TestMarkdownRendersSafely renders every Markdown report and checks
// that the only raw HTML is our own anchors, that no link leaves the
// document except to the spec references, and that every evidence table
// keeps its four columns (a pipe in a value does not split a cell).
func TestMarkdownRendersSafely(t *testing.T) {
	for name, r := range cases(t, false) {
		t.Run(name, func(t *testing.T) {
			doc := renderMarkdown(t, render(t, "markdown", r))
			for _, n := range findAll(doc, func(n *html.Node) bool { return true }) {
				switch n.Data {
				case "script", "svg", "img", "iframe", "style", "del":
					t.Errorf("<%s> in the rendered Markdown", n.Data)
				}
				for _, a := range n.Attr {
					if strings.HasPrefix(a.Key, "on") {
						t.Errorf("event handler %s in the rendered Markdown", a.Key)
					}
				}
			}
			for _, a := range findAll(doc, func(n *html.Node) bool { return n.Data == "a" }) {
				href, hasHref := attr(a, "href")
				id, hasID := attr(a, "id")
				switch {
				case hasID && !hasHref:
					if !strings.HasPrefix(id, "finding-") && !strings.HasPrefix(id, "not-checked-") && !strings.HasPrefix(id, "rule-error-") {
						t.Errorf("anchor id %q", id)
					}
				case strings.HasPrefix(href, "#"):
				case strings.HasPrefix(href, "https://www.rfc-editor.org/"), strings.HasPrefix(href, "https://datatracker.ietf.org/"),
					strings.HasPrefix(href, "https://modelcontextprotocol.io/"), strings.HasPrefix(href, "https://openid.net/"):
				case strings.HasPrefix(href, "http://") || strings.HasPrefix(href, "https://"):
					// GFM autolinks URLs in plain text (a metadata URL in a
					// message); harmless, but never javascript:.
				default:
					t.Errorf("link %q", href)
				}
			}
			for _, tbl := range findAll(doc, func(n *html.Node) bool { return n.Data == "table" }) {
				head := findAll(tbl, func(n *html.Node) bool { return n.Data == "th" })
				for _, tr := range findAll(tbl, func(n *html.Node) bool { return n.Data == "tr" }) {
					cells := findAll(tr, func(n *html.Node) bool { return n.Data == "td" || n.Data == "th" })
					if len(cells) != len(head) {
						t.Errorf("table row with %d cells, header has %d: %q", len(cells), len(head), textOf(tr))
					}
				}
			}
		})
	}
}

func TestMarkdownHostileTextIsLiteral(t *testing.T) {
	doc := renderMarkdown(t, render(t, "markdown", synthetic()))
	text := textOf(doc)
	for _, want := range []string{`<script>alert("x")</script>`, "[link](javascript:alert(1))", "a*b* _c_", "`tick`", "&amp;"} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered text lacks the literal %q", want)
		}
	}
}

func TestMarkdownStructure(t *testing.T) {
	r := pipeline(t, false, "testdata/conformance.har")
	out := string(render(t, "markdown", r))
	for _, want := range []string{"## Summary", "## Flows", "### F1 · authorization_code", "## Findings",
		"### Client — ", "### Authorization server — ", "### Resource server — ", "- **Evidence:**", "- **Fix:**", "- **Spec:**", "## Rules run"} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	// Groups come in party order, each finding once.
	c, a, s := strings.Index(out, "### Client"), strings.Index(out, "### Authorization server"), strings.Index(out, "### Resource server")
	if !(c < a && a < s) {
		t.Errorf("party groups out of order: %d %d %d", c, a, s)
	}
	fails := 0
	for _, f := range r.Findings {
		if f.Outcome == "fail" {
			fails++
		}
	}
	if n := strings.Count(out, "<a id=\"finding-"); n != fails {
		t.Errorf("%d findings written, want %d", n, fails)
	}
}

func TestMdEscape(t *testing.T) {
	for in, want := range map[string]string{
		"authorization_code": "authorization_code",
		"_lead and trail_":   `\_lead and trail\_`,
		"a|b":                `a\|b`,
		"<b>":                `\<b\>`,
		"#1 and #2":          `\#1 and #2`,
		"end #":              `end \#`,
		"![img](x)":          `\!\[img\](x)`,
		"fish & chips &amp;": `fish & chips \&amp;`,
		"line\nbreak":        "line break",
		"bell\x07":           "bell\uFFFD",
		"back\\slash `code`": "back\\\\slash \\`code\\`",
	} {
		if got := mdEscape(in); got != want {
			t.Errorf("mdEscape(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"plain":   "`plain`",
		"a`b":     "``a`b``",
		"`x`":     "`` `x` ``",
		"":        "``",
		"two\nln": "`two ln`",
	} {
		if got := mdCode(in); got != want {
			t.Errorf("mdCode(%q) = %q, want %q", in, got, want)
		}
	}
}
