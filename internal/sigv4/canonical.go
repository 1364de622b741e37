package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// requestPath returns the path of the request as the client sent it, still
// percent-encoded.
func requestPath(r *http.Request) string {
	if uri := r.RequestURI; uri != "" && uri[0] == '/' {
		if i := strings.IndexByte(uri, '?'); i >= 0 {
			uri = uri[:i]
		}
		return uri
	}
	return r.URL.EscapedPath()
}

// canonicalURI is the CanonicalURI of the canonical request: the path with
// empty, "." and ".." segments removed, as AWS normalizes every service but
// S3, then URI-encoded again, '/' aside. The path arrives percent-encoded
// already, so an encoded character is encoded twice ("%2F" becomes "%252F"),
// as the SDKs sign it.
func canonicalURI(path string) string {
	if path == "" || path == "/" {
		return "/"
	}
	if strings.Contains(path, "//") || strings.Contains(path, "/.") {
		path = removeDotSegments(path)
	}
	if !needsEscape(path, true) {
		return path
	}
	return escape(path, true)
}

// removeDotSegments removes ".", ".." and empty segments, keeping a leading
// and a trailing slash.
func removeDotSegments(path string) string {
	var out []string
	for seg := range strings.SplitSeq(path, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	s := "/" + strings.Join(out, "/")
	if len(out) > 0 && strings.HasSuffix(path, "/") {
		s += "/"
	}
	return s
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func needsEscape(s string, keepSlash bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreserved(c) && !(keepSlash && c == '/') {
			return true
		}
	}
	return false
}

// escape is SigV4's UriEncode: every byte but the unreserved ones (and '/'
// when keepSlash) as %XX with upper-case hex digits.
func escape(s string, keepSlash bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// canonicalQuery is the CanonicalQueryString: every parameter decoded then
// encoded again with UriEncode, sorted by encoded name and then encoded
// value. skip names a parameter left out (X-Amz-Signature of a presigned
// request).
func canonicalQuery(raw, skip string) string {
	if raw == "" {
		return ""
	}
	type param struct{ k, v string }
	params := make([]param, 0, 4)
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = unescapeQuery(k), unescapeQuery(v)
		if skip != "" && k == skip {
			continue
		}
		params = append(params, param{escape(k, false), escape(v, false)})
	}
	slices.SortFunc(params, func(a, b param) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// unescapeQuery decodes a query component as form data ('+' is a space); a
// malformed escape is kept as it came.
func unescapeQuery(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// headerValue is the canonical value of one signed header: its values in
// order, each trimmed with inner runs of spaces folded, joined by commas.
// The host header is the request's Host; content-length falls back to the
// request's length when the header itself was consumed.
func headerValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return foldSpaces(r.Host)
	case "content-length":
		if r.Header.Get("Content-Length") == "" && r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10)
		}
	}
	values := r.Header.Values(name)
	switch len(values) {
	case 0:
		return ""
	case 1:
		return foldSpaces(values[0])
	}
	folded := make([]string, len(values))
	for i, v := range values {
		folded[i] = foldSpaces(v)
	}
	return strings.Join(folded, ",")
}

// foldSpaces trims leading and trailing spaces and folds inner runs of
// spaces into one.
func foldSpaces(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(c)
	}
	return b.String()
}
