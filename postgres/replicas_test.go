package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph/internal/servertest"
	"github.com/fixgraph/fixgraph/postgres"
)

// TestReplicasCountEachOther: two replicas heartbeating on one database count two; once one
// stops, the other counts one.
func TestReplicasCountEachOther(t *testing.T) {
	url := servertest.PostgresURL(t)
	open := func(name string) *postgres.DB {
		db, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		db.Replica = name
		return db
	}
	a, b := open("a"), open("b")
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneA := make(chan struct{})
	go func() { a.Heartbeat(ctxA, 50*time.Millisecond); close(doneA) }()
	go b.Heartbeat(ctxB, 50*time.Millisecond)
	waitLive := func(db *postgres.DB, want int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); db.Live() != want; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("replica %s counts %d live; want %d", db.Replica, db.Live(), want)
			}
		}
	}
	waitLive(a, 2)
	waitLive(b, 2)
	stopA()
	<-doneA
	waitLive(b, 1)
}
