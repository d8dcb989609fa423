package search

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSelectTop(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{1, 2, 10, 1000, 5000} {
		for _, distinct := range []int{1, 3, 1 << 30} { // all equal, heavy ties, no ties
			c := make([]cand, size)
			for i := range c {
				c[i] = cand{i, float32(rng.IntN(distinct))}
			}
			scores := make([]float32, size)
			for i, x := range c {
				scores[i] = x.score
			}
			slices.Sort(scores)
			slices.Reverse(scores)
			for _, n := range []int{1, size / 2, size - 1, size} {
				if n < 1 {
					continue
				}
				top := selectTop(slices.Clone(c), n)
				got := make([]float32, len(top))
				for i, x := range top {
					got[i] = x.score
				}
				slices.Sort(got)
				slices.Reverse(got)
				if !slices.Equal(got, scores[:n]) {
					t.Fatalf("size %d, %d distinct, n %d: selected scores %v..., want %v...", size, distinct, n, got[:min(5, n)], scores[:min(5, n)])
				}
			}
		}
	}
}

// TestDot checks dot (assembly where the CPU allows) against the Go loop, for every length
// around the 8- and 32-float steps and for the model's 512.
func TestDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, n := range append([]int{512, 1000}, func() []int {
		var ns []int
		for n := range 70 {
			ns = append(ns, n)
		}
		return ns
	}()...) {
		a, b := make([]float32, n), make([]float32, n+3) // b may be longer
		var scale float64
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		for i := range a {
			a[i] = float32(rng.NormFloat64())
			scale += math.Abs(float64(a[i] * b[i]))
		}
		got, want := dot(a, b), dotGeneric(a, b)
		if math.Abs(float64(got-want)) > 1e-5*(1+scale) {
			t.Errorf("n=%d: dot = %v, want %v", n, got, want)
		}
	}
}

func BenchmarkDot512(b *testing.B) {
	x, y := make([]float32, 512), make([]float32, 512)
	for i := range x {
		x[i], y[i] = float32(i%7), float32(i%5)
	}
	b.Run("asm", func(b *testing.B) {
		for b.Loop() {
			dot(x, y)
		}
	})
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			dotGeneric(x, y)
		}
	})
}
