package jsonata

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"hash"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/google/uuid"

	"github.com/sluice-ci/sluice/internal/javarand"
)

// maxRangeItems is the largest $range AWS builds; one more item fails with
// its memory limit error.
const maxRangeItems = 360145

var hashes = map[string]func() hash.Hash{
	"MD5":     md5.New,
	"SHA-1":   sha1.New,
	"SHA-256": sha256.New,
	"SHA-384": sha512.New384,
	"SHA-512": sha512.New,
}

// defineAWS registers the functions Step Functions adds to JSONata. Their
// argument rules follow what AWS records: numeric arguments are truncated
// towards zero, and arguments AWS cannot use make the result undefined.
func defineAWS() {
	def("partition", "<an:a>", 2, func(e *evaluator, c *callContext, args []any) (any, error) {
		items, ok := arrayItems(args[0])
		size, okSize := numArg(args, 1)
		if !ok || !okSize || len(items) == 0 {
			return undefined, nil
		}
		n := int(math.Trunc(size))
		if n <= 0 {
			return undefined, nil
		}
		out := make([]any, 0, (len(items)+n-1)/n)
		for i := 0; i < len(items); i += n {
			end := min(i+n, len(items))
			out = append(out, append([]any(nil), items[i:end]...))
		}
		return out, nil
	})
	def("range", "<nnn?:a<n>>", 3, func(e *evaluator, c *callContext, args []any) (any, error) {
		start, ok1 := numArg(args, 0)
		end, ok2 := numArg(args, 1)
		step, ok3 := numArg(args, 2)
		if !ok1 || !ok2 || !ok3 {
			return undefined, nil
		}
		start, end, step = math.Trunc(start), math.Trunc(end), math.Trunc(step)
		if step == 0 || (end > start && step < 0) || (end < start && step > 0) {
			return undefined, nil
		}
		count := math.Floor((end-start)/step) + 1
		if count > maxRangeItems {
			return nil, &Error{Code: "U1003", Position: c.pos}
		}
		out := newSeq()
		for i := 0; i < int(count); i++ {
			out.items = append(out.items, start+float64(i)*step)
		}
		return out, nil
	})
	defString("hash", "<s-s?:s>", 2, func(e *evaluator, c *callContext, s string, args []any) (any, error) {
		algo, ok := strArg(args, 1)
		if !ok {
			return undefined, nil
		}
		newHash, ok := hashes[algo]
		if !ok {
			return nil, &Error{Code: "D3137", Position: c.pos,
				Value: "The hash algorithm " + jsString(algo) + " is not supported; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"}
		}
		h := newHash()
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil)), nil
	})
	def("random", "<n?:n>", 1, func(e *evaluator, c *callContext, args []any) (any, error) {
		if seed, ok := numArg(args, 0); ok {
			return javarand.New(int64(math.Trunc(seed))).NextDouble(), nil
		}
		return rand.Float64(), nil
	})
	def("uuid", "<:s>", 0, func(e *evaluator, c *callContext, args []any) (any, error) {
		return uuid.NewString(), nil
	})
	defString("parse", "<s-:x>", 1, func(e *evaluator, c *callContext, s string, args []any) (any, error) {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, &Error{Code: "D3137", Position: c.pos, Value: "Unable to parse " + jsString(s) + " as JSON: " + err.Error()}
		}
		if dec.More() {
			return nil, &Error{Code: "D3137", Position: c.pos, Value: "Unable to parse " + jsString(s) + " as JSON: unexpected text after the value"}
		}
		return canonicalNumbers(v), nil
	})
}

// canonicalNumbers rewrites the numbers of a parsed document the way AWS
// prints them: integers keep their digits (-0 is 0), other numbers are
// written in their shortest form.
func canonicalNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if isIntegerText(s) {
			if strings.TrimLeft(strings.TrimPrefix(s, "-"), "0") == "" {
				return json.Number("0")
			}
			return x
		}
		f, _ := toNumber(x)
		return f
	case []any:
		for i, it := range x {
			x[i] = canonicalNumbers(it)
		}
	case map[string]any:
		for k, it := range x {
			x[k] = canonicalNumbers(it)
		}
	}
	return v
}
