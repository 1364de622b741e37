package pipeline

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/sluice-ci/sluice/internal/pipeline/tree"
)

// Timestamp is a time in a GetPipeline response. The API writes it as
// seconds since the epoch; it is also read as an RFC 3339 string, and as the
// {"__class__": "datetime", "year": …} object that recorded boto responses
// (placebo) use.
type Timestamp struct {
	time.Time
}

// MarshalJSON writes the time as the API does: seconds since the epoch.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)), nil
}

// UnmarshalJSON reads any of the forms Timestamp accepts.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	v, _, err := tree.ParseJSON(data)
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	return t.fromTree(v)
}

func (t *Timestamp) fromTree(v any) error {
	switch x := v.(type) {
	case tree.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return fmt.Errorf("timestamp %s is not a number of seconds", string(x))
		}
		sec, frac := math.Modf(f)
		t.Time = time.Unix(int64(sec), int64(frac*1e9)).UTC()
		return nil
	case string:
		parsed, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return fmt.Errorf("timestamp %q is not an RFC 3339 time", x)
		}
		t.Time = parsed
		return nil
	case *tree.Object:
		if class, _ := x.Get("__class__"); class != "datetime" {
			break
		}
		part := func(name string) int {
			n, _ := x.Get(name)
			i, _ := wholeNumber(n)
			return int(i)
		}
		t.Time = time.Date(part("year"), time.Month(part("month")), part("day"),
			part("hour"), part("minute"), part("second"), part("microsecond")*1000, time.UTC)
		return nil
	}
	return fmt.Errorf("want a timestamp, got %s", tree.Kind(v))
}
