package intrinsic

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/google/uuid"

	"github.com/sluice-ci/sluice/internal/javarand"
	"github.com/sluice-ci/sluice/internal/jsonpath"
)

// function describes one intrinsic: its arity (max -1 for any number) and
// its implementation over evaluated arguments.
type function struct {
	name     string
	min, max int
	eval     func(c *Call, args []any) (any, error)
}

func (f *function) invalid() error {
	return &jsonpath.Failure{Name: jsonpath.ErrRuntime, Cause: "Invalid arguments in " + f.name}
}

var functions = map[string]*function{}

func init() {
	for _, f := range []*function{
		{"States.Format", 1, -1, format},
		{"States.StringToJson", 1, 1, stringToJSON},
		{"States.JsonToString", 1, 1, jsonToString},
		{"States.Array", 0, -1, array},
		{"States.ArrayPartition", 2, 2, arrayPartition},
		{"States.ArrayContains", 2, 2, arrayContains},
		{"States.ArrayRange", 3, 3, arrayRange},
		{"States.ArrayGetItem", 2, 2, arrayGetItem},
		{"States.ArrayLength", 1, 1, arrayLength},
		{"States.ArrayUnique", 1, 1, arrayUnique},
		{"States.Base64Encode", 1, 1, base64Encode},
		{"States.Base64Decode", 1, 1, base64Decode},
		{"States.Hash", 2, 2, hashFn},
		{"States.JsonMerge", 3, 3, jsonMerge},
		{"States.MathRandom", 2, 3, mathRandom},
		{"States.MathAdd", 2, 2, mathAdd},
		{"States.StringSplit", 2, 2, stringSplit},
		{"States.UUID", 0, 0, uuidFn},
	} {
		functions[f.name] = f
	}
}

// maxStringLength is the longest string (in UTF-16 units, as Java counts)
// that Base64Encode, Base64Decode and Hash accept.
const maxStringLength = 10000

func javaLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func number(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }

// toInt32 converts a numeric argument the way AWS does for index, size,
// range and bound arguments: fractions are truncated toward zero, and the
// result must fit a Java int.
func toInt32(v any) (int64, bool) { return intArg(v, math.Trunc) }

// roundHalfUp converts a MathAdd operand: Java's Math.round, which rounds
// halves toward positive infinity (0.5 → 1, -1.5 → -1, -1.51 → -2).
func roundHalfUp(v any) (int64, bool) {
	return intArg(v, func(f float64) float64 {
		r := math.Floor(f)
		if f-r >= 0.5 {
			r++
		}
		return r
	})
}

// intArg reads a number that must be a Java int: integers exactly, other
// numbers as Java doubles made integral by toInt.
func intArg(v any, toInt func(float64) float64) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if jsonpath.IsInteger(n) {
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
			return 0, false
		}
		return i, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, false
	}
	f = toInt(f)
	if f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int64(f), true
}

func format(c *Call, args []any) (any, error) {
	var t *template
	switch tv := args[0].(type) {
	case string:
		if c.args[0].kind == argLiteral {
			t = c.args[0].tmpl
		} else {
			t = parseTemplate(tv, false)
		}
	default:
		return nil, c.fn.invalid()
	}
	if t.bad || t.placeholders() != len(args)-1 {
		return nil, c.fn.invalid()
	}
	var b strings.Builder
	for i, part := range t.parts {
		b.WriteString(part)
		if i+1 < len(t.parts) {
			b.WriteString(jsonpath.JavaString(args[i+1]))
		}
	}
	return b.String(), nil
}

func stringToJSON(c *Call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, c.fn.invalid()
	}
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	if s == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, c.fn.invalid()
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, c.fn.invalid()
	}
	return v, nil
}

func jsonToString(_ *Call, args []any) (any, error) {
	return jsonpath.Text(args[0]), nil
}

func array(_ *Call, args []any) (any, error) {
	out := make([]any, len(args))
	copy(out, args)
	return out, nil
}

func arrayPartition(c *Call, args []any) (any, error) {
	arr, ok := args[0].([]any)
	size, okSize := toInt32(args[1])
	if !ok || !okSize || size <= 0 {
		return nil, c.fn.invalid()
	}
	out := make([]any, 0, (int64(len(arr))+size-1)/size)
	for i := 0; i < len(arr); i += int(size) {
		end := min(i+int(size), len(arr))
		chunk := make([]any, end-i)
		copy(chunk, arr[i:end])
		out = append(out, chunk)
	}
	return out, nil
}

// arrayContains compares elements as AWS does, by their Java string form, so
// that 9007199254740991 matches "9007199254740991" and true matches "true".
func arrayContains(c *Call, args []any) (any, error) {
	arr, ok := args[0].([]any)
	if !ok {
		return nil, c.fn.invalid()
	}
	want := jsonpath.JavaString(args[1])
	for _, e := range arr {
		if jsonpath.JavaString(e) == want {
			return true, nil
		}
	}
	return false, nil
}

// maxRange is the most items States.ArrayRange may produce.
const maxRange = 1000

func arrayRange(c *Call, args []any) (any, error) {
	start, ok1 := toInt32(args[0])
	end, ok2 := toInt32(args[1])
	step, ok3 := toInt32(args[2])
	if !ok1 || !ok2 || !ok3 || step == 0 {
		return nil, c.fn.invalid()
	}
	var count int64
	switch {
	case step > 0 && start <= end:
		count = (end-start)/step + 1
	case step < 0 && start >= end:
		count = (start-end)/(-step) + 1
	}
	if count > maxRange {
		return nil, c.fn.invalid()
	}
	out := make([]any, count)
	for i := range out {
		out[i] = number(start + int64(i)*step)
	}
	return out, nil
}

func arrayGetItem(c *Call, args []any) (any, error) {
	arr, ok := args[0].([]any)
	idx, okIdx := toInt32(args[1])
	if !ok || !okIdx || idx < 0 {
		return nil, c.fn.invalid()
	}
	if len(arr) == 0 {
		// AWS returns null for any index into an empty array.
		return nil, nil
	}
	if idx >= int64(len(arr)) {
		return nil, c.fn.invalid()
	}
	return arr[idx], nil
}

func arrayLength(c *Call, args []any) (any, error) {
	arr, ok := args[0].([]any)
	if !ok {
		return nil, c.fn.invalid()
	}
	return number(int64(len(arr))), nil
}

func arrayUnique(c *Call, args []any) (any, error) {
	arr, ok := args[0].([]any)
	if !ok {
		return nil, c.fn.invalid()
	}
	return javaHashSet(arr), nil
}

func base64Encode(c *Call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok || javaLength(s) > maxStringLength {
		return nil, c.fn.invalid()
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func base64Decode(c *Call, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok || javaLength(s) > maxStringLength {
		return nil, c.fn.invalid()
	}
	return strings.ToValidUTF8(string(lenientBase64(s)), "\uFFFD"), nil
}

// lenientBase64 decodes as AWS does: characters outside the standard and URL
// alphabets are skipped, the first '=' ends the data, and a trailing partial
// group yields the whole bytes it holds.
func lenientBase64(s string) []byte {
	out := make([]byte, 0, len(s)*3/4+2)
	var bits uint32
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			break
		}
		v := base64Value(c)
		if v < 0 {
			continue
		}
		bits = bits<<6 | uint32(v)
		n++
		if n == 4 {
			out = append(out, byte(bits>>16), byte(bits>>8), byte(bits))
			bits, n = 0, 0
		}
	}
	switch n {
	case 2:
		out = append(out, byte(bits>>4))
	case 3:
		out = append(out, byte(bits>>10), byte(bits>>2))
	}
	return out
}

func base64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+' || c == '-':
		return 62
	case c == '/' || c == '_':
		return 63
	}
	return -1
}

var hashes = map[string]func() hash.Hash{
	"MD5":     md5.New,
	"SHA-1":   sha1.New,
	"SHA-256": sha256.New,
	"SHA-384": sha512.New384,
	"SHA-512": sha512.New,
}

func hashFn(c *Call, args []any) (any, error) {
	algo, ok := args[1].(string)
	newHash := hashes[algo]
	if !ok || newHash == nil || args[0] == nil {
		return nil, c.fn.invalid()
	}
	data := jsonpath.JavaString(args[0])
	if javaLength(data) > maxStringLength {
		return nil, c.fn.invalid()
	}
	h := newHash()
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// jsonMerge merges shallowly: keys of the second object replace those of the
// first. AWS supports only the shallow mode, so a deep-merge flag of true is
// rejected.
func jsonMerge(c *Call, args []any) (any, error) {
	a, ok1 := args[0].(map[string]any)
	b, ok2 := args[1].(map[string]any)
	if !ok1 || !ok2 || args[2] == true {
		return nil, c.fn.invalid()
	}
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out, nil
}

// mathRandom returns an integer in [start, end). With a seed the value is
// the one java.util.Random gives for that seed, so a seeded call is
// repeatable.
func mathRandom(c *Call, args []any) (any, error) {
	start, ok1 := toInt32(args[0])
	end, ok2 := toInt32(args[1])
	if !ok1 || !ok2 || start >= end || end-start > math.MaxInt32 {
		return nil, c.fn.invalid()
	}
	bound := int32(end - start)
	if len(args) == 3 {
		seed, ok := toInt64(args[2])
		if !ok {
			return nil, c.fn.invalid()
		}
		return number(start + int64(javarand.New(seed).NextInt(bound))), nil
	}
	return number(start + int64(rand.Int32N(bound))), nil
}

func toInt64(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

func mathAdd(c *Call, args []any) (any, error) {
	a, ok1 := roundHalfUp(args[0])
	b, ok2 := roundHalfUp(args[1])
	sum := a + b
	if !ok1 || !ok2 || sum < math.MinInt32 || sum > math.MaxInt32 {
		return nil, c.fn.invalid()
	}
	return number(sum), nil
}

func stringSplit(c *Call, args []any) (any, error) {
	s, ok1 := args[0].(string)
	delims, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, c.fn.invalid()
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) })
	out := make([]any, len(fields))
	for i, f := range fields {
		out[i] = f
	}
	return out, nil
}

func uuidFn(_ *Call, _ []any) (any, error) {
	return uuid.NewString(), nil
}
