package javarand

import (
	"math"
	"testing"
)

// The expected numbers are what java.util.Random gives for the same seeds.
func TestNextDouble(t *testing.T) {
	tests := []struct {
		seed int64
		want float64
	}{
		{0, 0.730967787376657},
		{42, 0.7275636800328681},
		{-5, 0.26930095796932485},
		{math.MaxInt64, 0.26894263088050496},
	}
	for _, tt := range tests {
		if got := New(tt.seed).NextDouble(); got != tt.want {
			t.Errorf("new Random(%d).nextDouble() = %v, want %v", tt.seed, got, tt.want)
		}
	}
}

func TestNextInt(t *testing.T) {
	tests := []struct {
		seed  int64
		bound int32
		want  int32
	}{
		{42, 99, 62},
		{42, 10, 0},
		{0, 16, 11},
		{-10, 9, 0},
		{7, 999, 970},
		{math.MinInt64, math.MaxInt32, 1569741360},
		{3, 1 << 30, 784966867},
	}
	for _, tt := range tests {
		if got := New(tt.seed).NextInt(tt.bound); got != tt.want {
			t.Errorf("new Random(%d).nextInt(%d) = %d, want %d", tt.seed, tt.bound, got, tt.want)
		}
	}
}

// A generator goes on from where it is: the second number differs from the
// first and every number stays below the bound.
func TestSequence(t *testing.T) {
	r := New(7)
	seen := map[int32]bool{}
	for range 1000 {
		v := r.NextInt(1000)
		if v < 0 || v >= 1000 {
			t.Fatalf("NextInt(1000) = %d", v)
		}
		seen[v] = true
	}
	if len(seen) < 500 {
		t.Errorf("1000 draws gave only %d distinct numbers", len(seen))
	}
}
