// Package javarand is java.util.Random's generator. Step Functions runs on
// the JVM, and its seeded random functions (States.MathRandom with a seed,
// JSONata's $random with a seed) give the numbers java.util.Random gives for
// that seed; this port gives the same ones. math/rand's generators differ,
// and no library ports Java's, so it is written here from the algorithm
// java.util.Random documents.
package javarand

const (
	multiplier = 0x5DEECE66D
	addend     = 0xB
	mask       = 1<<48 - 1
)

// Rand is a java.util.Random: a 48-bit linear congruential generator. It is
// not safe for concurrent use.
type Rand struct{ seed int64 }

// New returns the generator new java.util.Random(seed) is.
func New(seed int64) *Rand {
	return &Rand{seed: (seed ^ multiplier) & mask}
}

// next is Random.next(bits): the top bits of the next state.
func (r *Rand) next(bits uint) int32 {
	r.seed = (r.seed*multiplier + addend) & mask
	return int32(r.seed >> (48 - bits))
}

// NextInt is Random.nextInt(bound): a number in [0, bound). bound must be
// positive.
func (r *Rand) NextInt(bound int32) int32 {
	v := r.next(31)
	m := bound - 1
	if bound&m == 0 {
		return int32((int64(bound) * int64(v)) >> 31)
	}
	for u := v; ; u = r.next(31) {
		v = u % bound
		if u-v+m >= 0 {
			return v
		}
	}
}

// NextDouble is Random.nextDouble: a number in [0, 1) made of 53 random
// bits.
func (r *Rand) NextDouble() float64 {
	hi := int64(r.next(26))
	lo := int64(r.next(27))
	return float64(hi<<27+lo) * (1.0 / float64(int64(1)<<53))
}
