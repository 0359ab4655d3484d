package harbuild

import "testing"

func TestEdits(t *testing.T) {
	e := &Entry{URL: "https://as/authorize?a=1&scope=x+y&b=2", ReqBody: "grant_type=authorization_code&code=abc",
		ReqHeaders: [][2]string{{"content-length", "38"}}, RespBody: `{"b":1,"a":"x"}`, RespHeaders: [][2]string{{"Content-Length", "15"}}}
	e.DelQuery("scope").SetQuery("state", "s 1")
	if e.URL != "https://as/authorize?a=1&b=2&state=s+1" {
		t.Errorf("url = %s", e.URL)
	}
	e.SetForm("code", "new").DelForm("grant_type").SetForm("resource", "https://r/mcp")
	if e.ReqBody != "code=new&resource=https%3A%2F%2Fr%2Fmcp" || e.ReqHeaders[0][1] != "39" {
		t.Errorf("form = %s %v", e.ReqBody, e.ReqHeaders)
	}
	e.SetRespJSON("c", []string{"z"}).SetRespJSON("b", nil)
	if e.RespBody != `{"a":"x","c":["z"]}` || e.RespHeader("content-length") != "19" {
		t.Errorf("json = %s %v", e.RespBody, e.RespHeaders)
	}
	e.SetRespHeader("Cache-Control", "no-store").DelRespHeader("content-length")
	if e.RespHeader("Cache-Control") != "no-store" || e.RespHeader("Content-Length") != "" {
		t.Errorf("headers = %v", e.RespHeaders)
	}
}
