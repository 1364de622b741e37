package states

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/sluice-ci/sluice/internal/asl"
)

// MaxPayloadBytes is Step Functions' limit on the size of a state's input,
// output and task results.
const MaxPayloadBytes = 256 * 1024

// MaxHistoryEvents is Step Functions' limit on the events of one execution.
const MaxHistoryEvents = 25000

var encoders = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// marshal encodes a JSON value as compact text the way Step Functions prints
// it: numbers keep their text, and <, > and & are not escaped.
func marshal(v any) []byte {
	buf := encoders.Get().(*bytes.Buffer)
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Values reaching here come from decoded JSON or from the
		// expression packages, which only build JSON values.
		buf.Reset()
		buf.WriteString("null\n")
	}
	out := make([]byte, buf.Len()-1)
	copy(out, buf.Bytes())
	encoders.Put(buf)
	return out
}

// jsonNumber is an integer as a JSON value.
func jsonNumber(i int64) json.Number { return json.Number(strconv.FormatInt(i, 10)) }

// marshalString is marshal as a string.
func marshalString(v any) string { return string(marshal(v)) }

// decode decodes JSON text with json.Number numbers.
func decode(data []byte) (any, error) { return asl.Decode(data) }

// jsonSize returns the length of the compact JSON text of v without
// building it, stopping early once it passes limit.
func jsonSize(v any, limit int) int {
	n := 0
	var walk func(v any)
	walk = func(v any) {
		if n > limit {
			return
		}
		switch t := v.(type) {
		case nil:
			n += 4
		case bool:
			if t {
				n += 4
			} else {
				n += 5
			}
		case json.Number:
			n += len(t)
		case string:
			n += stringSize(t)
		case []any:
			n += 2
			for i, e := range t {
				if i > 0 {
					n++
				}
				walk(e)
			}
		case map[string]any:
			n += 2
			i := 0
			for k, e := range t {
				if i > 0 {
					n++
				}
				i++
				n += stringSize(k) + 1
				walk(e)
			}
		default:
			n += len(marshal(t))
		}
	}
	walk(v)
	return n
}

func stringSize(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
}
