package harbuild

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Editing helpers: fixtures start from a scenario and then change exactly
// the bytes a real-world bug changes. Content-Length headers follow the
// body.

// SetReqHeader sets (or adds) a request header.
func (e *Entry) SetReqHeader(name, value string) *Entry {
	e.ReqHeaders = setHeader(e.ReqHeaders, name, value)
	return e
}

// DelReqHeader removes a request header.
func (e *Entry) DelReqHeader(name string) *Entry {
	e.ReqHeaders = delHeader(e.ReqHeaders, name)
	return e
}

// SetRespHeader sets (or adds) a response header.
func (e *Entry) SetRespHeader(name, value string) *Entry {
	e.RespHeaders = setHeader(e.RespHeaders, name, value)
	return e
}

// DelRespHeader removes a response header.
func (e *Entry) DelRespHeader(name string) *Entry {
	e.RespHeaders = delHeader(e.RespHeaders, name)
	return e
}

// RespHeader returns a response header's value.
func (e *Entry) RespHeader(name string) string {
	for _, h := range e.RespHeaders {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

func setHeader(hs [][2]string, name, value string) [][2]string {
	for i := range hs {
		if strings.EqualFold(hs[i][0], name) {
			hs[i][1] = value
			return hs
		}
	}
	return append(hs, [2]string{name, value})
}

func delHeader(hs [][2]string, name string) [][2]string {
	out := hs[:0]
	for _, h := range hs {
		if !strings.EqualFold(h[0], name) {
			out = append(out, h)
		}
	}
	return out
}

// SetQuery sets a query parameter of the request URL ("" value keeps the
// parameter with an empty value); DelQuery removes it.
func (e *Entry) SetQuery(name, value string) *Entry {
	e.URL = editQuery(e.URL, func(q [][2]string) [][2]string {
		for i := range q {
			if q[i][0] == name {
				q[i][1] = value
				return q
			}
		}
		return append(q, [2]string{name, value})
	})
	return e
}

// DelQuery removes a query parameter.
func (e *Entry) DelQuery(name string) *Entry {
	e.URL = editQuery(e.URL, func(q [][2]string) [][2]string {
		out := q[:0]
		for _, p := range q {
			if p[0] != name {
				out = append(out, p)
			}
		}
		return out
	})
	return e
}

func editQuery(raw string, fn func([][2]string) [][2]string) string {
	base, query, _ := strings.Cut(raw, "?")
	var q [][2]string
	for _, part := range strings.Split(query, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, _ := url.QueryUnescape(k)
		dv, _ := url.QueryUnescape(v)
		q = append(q, [2]string{dk, dv})
	}
	q = fn(q)
	if len(q) == 0 {
		return base
	}
	parts := make([]string, len(q))
	for i, p := range q {
		parts[i] = url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1])
	}
	return base + "?" + strings.Join(parts, "&")
}

// SetForm sets a parameter of a form-encoded request body; DelForm
// removes it.
func (e *Entry) SetForm(name, value string) *Entry {
	u := editQuery("x?"+e.ReqBody, func(q [][2]string) [][2]string {
		for i := range q {
			if q[i][0] == name {
				q[i][1] = value
				return q
			}
		}
		return append(q, [2]string{name, value})
	})
	e.setReqBody(strings.TrimPrefix(strings.TrimPrefix(u, "x"), "?"))
	return e
}

// DelForm removes a form parameter.
func (e *Entry) DelForm(name string) *Entry {
	u := editQuery("x?"+e.ReqBody, func(q [][2]string) [][2]string {
		out := q[:0]
		for _, p := range q {
			if p[0] != name {
				out = append(out, p)
			}
		}
		return out
	})
	e.setReqBody(strings.TrimPrefix(strings.TrimPrefix(u, "x"), "?"))
	return e
}

// SetReqJSON sets a top-level member of a JSON request body (value nil
// deletes it).
func (e *Entry) SetReqJSON(member string, value any) *Entry {
	e.setReqBody(editJSON(e.ReqBody, member, value))
	return e
}

// SetRespJSON sets a top-level member of a JSON response body (value nil
// deletes it).
func (e *Entry) SetRespJSON(member string, value any) *Entry {
	e.SetRespBody(editJSON(e.RespBody, member, value))
	return e
}

// SetRespBody replaces the response body.
func (e *Entry) SetRespBody(body string) *Entry {
	e.RespBody = body
	e.RespHeaders = setHeaderIfPresent(e.RespHeaders, "Content-Length", fmt.Sprint(len(body)))
	return e
}

func (e *Entry) setReqBody(body string) {
	e.ReqBody = body
	e.ReqHeaders = setHeaderIfPresent(e.ReqHeaders, "content-length", fmt.Sprint(len(body)))
}

func setHeaderIfPresent(hs [][2]string, name, value string) [][2]string {
	for i := range hs {
		if strings.EqualFold(hs[i][0], name) {
			hs[i][1] = value
		}
	}
	return hs
}

// editJSON changes one member of a JSON object, keeping the other members
// in their original order.
func editJSON(body, member string, value any) string {
	var obj orderedObject
	if err := json.Unmarshal([]byte(body), &obj); err != nil {
		panic(fmt.Sprintf("harbuild: body is not a JSON object: %v", err))
	}
	obj.set(member, value)
	return obj.String()
}

type orderedObject struct {
	keys []string
	vals map[string]json.RawMessage
}

func (o *orderedObject) UnmarshalJSON(b []byte) error {
	o.vals = map[string]json.RawMessage{}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		k := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if _, ok := o.vals[k]; !ok {
			o.keys = append(o.keys, k)
		}
		o.vals[k] = v
	}
	return nil
}

func (o *orderedObject) set(k string, v any) {
	if v == nil {
		delete(o.vals, k)
		keys := o.keys[:0]
		for _, x := range o.keys {
			if x != k {
				keys = append(keys, x)
			}
		}
		o.keys = keys
		return
	}
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = json.RawMessage(mustJSON(v))
}

func (o *orderedObject) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(mustJSON(k))
		b.WriteByte(':')
		b.Write(o.vals[k])
	}
	b.WriteByte('}')
	return b.String()
}
