package intrinsic

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf16"

	"github.com/sluice-ci/sluice/internal/jsonpath"
)

// javaHashSet returns the distinct values of arr in the order a
// java.util.HashSet built from the list iterates them. AWS returns
// States.ArrayUnique in that order ([true, false, true] gives [false, true]),
// so the set is simulated: Java's hash codes for the values Jackson parses
// (Integer, Long, Double, String, Boolean, ArrayList, LinkedHashMap), the
// capacity HashSet(Collection) starts with, and HashMap's resizing.
func javaHashSet(arr []any) []any {
	capacity := tableSizeFor(max(int(float32(len(arr))/0.75)+1, 16))
	threshold := int(float32(capacity) * 0.75)
	type entry struct {
		hash  uint32
		value any
	}
	buckets := make([][]entry, capacity)
	resize := func() {
		grown := make([][]entry, 2*len(buckets))
		for _, b := range buckets {
			for _, e := range b {
				i := e.hash & uint32(len(grown)-1)
				grown[i] = append(grown[i], e)
			}
		}
		buckets = grown
		threshold *= 2
	}
	size := 0
	for _, v := range arr {
		h := javaHash(v)
		h ^= h >> 16
		i := h & uint32(len(buckets)-1)
		dup := false
		for _, e := range buckets[i] {
			if e.hash == h && javaEqual(e.value, v) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		before := len(buckets[i])
		buckets[i] = append(buckets[i], entry{hash: h, value: v})
		if before >= 8 && len(buckets) < 64 {
			// HashMap resizes instead of turning a crowded bin into a tree
			// while the table is small.
			resize()
		}
		size++
		if size > threshold {
			resize()
		}
	}
	out := make([]any, 0, size)
	for _, b := range buckets {
		for _, e := range b {
			out = append(out, e.value)
		}
	}
	return out
}

func tableSizeFor(n int) int {
	c := 1
	for c < n {
		c <<= 1
	}
	return c
}

// javaHash returns the hashCode of the Java object a JSON value parses to.
func javaHash(v any) uint32 {
	switch t := v.(type) {
	case nil:
		return 0
	case bool:
		if t {
			return 1231
		}
		return 1237
	case string:
		var h uint32
		for _, u := range utf16.Encode([]rune(t)) {
			h = 31*h + uint32(u)
		}
		return h
	case json.Number:
		if jsonpath.IsInteger(t) {
			i, err := strconv.ParseInt(string(t), 10, 64)
			if err != nil {
				return javaHash(string(t))
			}
			if i >= math.MinInt32 && i <= math.MaxInt32 {
				return uint32(int32(i))
			}
			return uint32(i ^ int64(uint64(i)>>32))
		}
		f, _ := strconv.ParseFloat(string(t), 64)
		bits := math.Float64bits(f)
		return uint32(bits ^ bits>>32)
	case []any:
		h := uint32(1)
		for _, e := range t {
			h = 31*h + javaHash(e)
		}
		return h
	case map[string]any:
		var h uint32
		for k, e := range t {
			h += javaHash(k) ^ javaHash(e)
		}
		return h
	}
	return 0
}

// javaEqual is Java's equals on the parsed objects: an integral number never
// equals a fractional one (1 and 1.0 differ), objects ignore key order.
func javaEqual(a, b any) bool {
	return jsonpath.EqualFunc(a, b, func(x, y json.Number) bool {
		if jsonpath.IsInteger(x) != jsonpath.IsInteger(y) {
			return false
		}
		if jsonpath.IsInteger(x) {
			c, ok := jsonpath.CompareNumbers(x, y)
			return ok && c == 0
		}
		fx, _ := strconv.ParseFloat(string(x), 64)
		fy, _ := strconv.ParseFloat(string(y), 64)
		return math.Float64bits(fx) == math.Float64bits(fy)
	})
}
