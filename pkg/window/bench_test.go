package window

import (
	"testing"
	"time"
)

// BenchmarkNextStartNoFit is the worst case: the whole 400-day horizon is scanned and nothing fits.
func BenchmarkNextStartNoFit(b *testing.B) {
	cal := build(&testing.T{}, prePost, nil).Calendar()
	w, _ := New(prePost, cal, "web", nil)
	from := at(2026, 6, 10, 8, 30)
	for b.Loop() {
		if _, err := w.NextStart(from, 150*time.Minute); err == nil {
			b.Fatal("fits")
		}
	}
}

// BenchmarkCanFinish is the controller's per-step question.
func BenchmarkCanFinish(b *testing.B) {
	w := build(&testing.T{}, prePost, nil)
	from := at(2026, 6, 10, 7, 0)
	for b.Loop() {
		w.CanFinish(from, time.Hour)
	}
}
