package numtext

import (
	"math"
	"strconv"
	"testing"
)

// The expected texts are what Java's Double.toString and JavaScript's
// String(f) print.
func TestFormat(t *testing.T) {
	tests := []struct {
		f          float64
		java, js   string
		roundTrips bool
	}{
		{0, "0.0", "0", true},
		{math.Copysign(0, -1), "-0.0", "0", false},
		{math.NaN(), "NaN", "NaN", false},
		{math.Inf(1), "Infinity", "Infinity", false},
		{math.Inf(-1), "-Infinity", "-Infinity", false},
		{1, "1.0", "1", true},
		{-1, "-1.0", "-1", true},
		{100, "100.0", "100", true},
		{1.5, "1.5", "1.5", true},
		{-123456.789, "-123456.789", "-123456.789", true},
		{0.30000000000000004, "0.30000000000000004", "0.30000000000000004", true},
		{0.001, "0.001", "0.001", true},
		{0.00015, "1.5E-4", "0.00015", true},
		{9999999, "9999999.0", "9999999", true},
		{1e7, "1.0E7", "10000000", true},
		{12345678.9, "1.23456789E7", "12345678.9", true},
		{1e-6, "1.0E-6", "0.000001", true},
		{1.5e-7, "1.5E-7", "1.5e-7", true},
		{1e20, "1.0E20", "100000000000000000000", true},
		{1e21, "1.0E21", "1e+21", true},
		{-1.5e22, "-1.5E22", "-1.5e+22", true},
		{math.MaxFloat64, "1.7976931348623157E308", "1.7976931348623157e+308", true},
	}
	for _, tt := range tests {
		t.Run(tt.js, func(t *testing.T) {
			if got := Java(tt.f); got != tt.java {
				t.Errorf("Java(%v) = %q, want %q", tt.f, got, tt.java)
			}
			if got := JavaScript(tt.f); got != tt.js {
				t.Errorf("JavaScript(%v) = %q, want %q", tt.f, got, tt.js)
			}
			if !tt.roundTrips {
				return
			}
			for _, s := range []string{Java(tt.f), JavaScript(tt.f)} {
				if back, err := strconv.ParseFloat(s, 64); err != nil || back != tt.f {
					t.Errorf("%q reads back as %v, %v", s, back, err)
				}
			}
		})
	}
}

func TestIsJSON(t *testing.T) {
	tests := []struct {
		s           string
		json, loose bool
	}{
		{"0", true, true},
		{"-0", true, true},
		{"12", true, true},
		{"-1.5e+10", true, true},
		{"1E5", true, true},
		{"0.25", true, true},
		{"007", false, true},
		{"-01.5", false, true},
		{"", false, false},
		{"-", false, false},
		{"+1", false, false},
		{"1.", false, false},
		{".5", false, false},
		{"1e", false, false},
		{"1e+", false, false},
		{"0x10", false, false},
		{"1 ", false, false},
		{"Infinity", false, false},
	}
	for _, tt := range tests {
		if got := IsJSON(tt.s); got != tt.json {
			t.Errorf("IsJSON(%q) = %v, want %v", tt.s, got, tt.json)
		}
		if got := IsLooseJSON(tt.s); got != tt.loose {
			t.Errorf("IsLooseJSON(%q) = %v, want %v", tt.s, got, tt.loose)
		}
	}
}
