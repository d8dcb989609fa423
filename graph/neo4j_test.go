package graph

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/internal/servertest"
)

// TestOpenNeo4jRoutingScheme opens the test server through neo4j://, the scheme of a cluster: the
// driver asks the server for its routing table (a single server names itself as writer, reader
// and router) and sends writes and reads where it says.
func TestOpenNeo4jRoutingScheme(t *testing.T) {
	u, err := url.Parse(servertest.Neo4jURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Scheme = "neo4j"
	s, err := OpenNeo4j(context.Background(), u.String())
	if err != nil {
		t.Fatalf("OpenNeo4j(%s): %v", u.Redacted(), err)
	}
	defer s.Close()
	ctx := context.Background()
	b := manualBatch("routed.html", "h1", "不排水")
	if _, err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	n, err := s.Node(ctx, b.Document.ID)
	if err != nil {
		t.Fatalf("reading back through neo4j://: %v", err)
	}
	if d, ok := n.(*fixgraph.Document); !ok || d.Version != 1 {
		t.Errorf("Node(%q) = %#v, want the document at version 1", b.Document.ID, n)
	}
}

func TestOpenNeo4jRejectsOtherSchemes(t *testing.T) {
	for _, addr := range []string{"http://neo4j:pw@127.0.0.1:7474", "127.0.0.1:7687", "bolt://", "neo4j+x://h:1"} {
		_, err := OpenNeo4j(context.Background(), addr)
		if fixgraph.CodeOf(err) != fixgraph.EINVALID {
			t.Errorf("OpenNeo4j(%q) = %v, want an EINVALID error", addr, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("OpenNeo4j(%q): the message shows the password: %v", addr, err)
		}
	}
}

// TestConcurrentWritersShareNodes has writers apply documents that share a product, an error code
// and a part at the same time, and push stock for the part: on Neo4j their transactions lock the
// same nodes and may deadlock, which the server breaks and the driver retries. Every write must
// land once: each document's contribution kept, one node per id, the generation counting each.
func TestConcurrentWritersShareNodes(t *testing.T) { forEachStore(t, testConcurrentWritersShareNodes) }

func testConcurrentWritersShareNodes(t *testing.T, s store) {
	ctx := context.Background()
	const writers = 6
	before, err := s.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for i := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := s.Apply(ctx, manualBatch(fmt.Sprintf("m%d.html", i), "h1", fmt.Sprintf("症状 %d", i)))
			errs <- err
		}()
		go func() {
			defer wg.Done()
			errs <- s.SetStock(ctx, []*fixgraph.StockLevel{{SKU: "DC31-00178A", Warehouse: fmt.Sprintf("W%d", i), Quantity: i, UpdatedAt: time.Now().UTC()}})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	after, err := s.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after-before != 2*writers {
		t.Errorf("generation grew by %d, want %d (one per write)", after-before, 2*writers)
	}
	ec := fixgraph.ErrorCodeID("WF-8012D", "E102")
	owners, err := s.Owners(ctx, []string{ec, fixgraph.PartID("DC31-00178A")})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(owners[ec]); got != writers {
		t.Errorf("%s has %d contributors %v, want %d", ec, got, owners[ec], writers)
	}
	if got := len(owners[fixgraph.PartID("DC31-00178A")]); got != writers+1 {
		t.Errorf("the part has %d contributors, want %d (each document and the stock push)", got, writers+1)
	}
	var codes int
	if err := s.Scan(ctx, fixgraph.PrefixErrorCode+":", func(fixgraph.Node) error { codes++; return nil }); err != nil {
		t.Fatal(err)
	}
	if codes != 1 {
		t.Errorf("%d error-code nodes, want 1", codes)
	}
	wh, err := s.Neighbors(ctx, []string{fixgraph.PartID("DC31-00178A")}, fixgraph.RelStockedAt, fixgraph.Out)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(wh[fixgraph.PartID("DC31-00178A")]); got != writers {
		t.Errorf("the part is stocked at %d warehouses, want %d", got, writers)
	}
}

// TestGenerationCountsConcurrentWrites: every one of many writes at once counts in the
// generation, which backups compare to see whether writes went on while they read.
func TestGenerationCountsConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	s, err := OpenNeo4j(ctx, servertest.Neo4jURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before, err := s.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 6, 5
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				levels := []*fixgraph.StockLevel{{SKU: fmt.Sprintf("GEN-%d-%d", w, i), Warehouse: "WH1", Quantity: i, UpdatedAt: time.Now().UTC()}}
				if err := s.SetStock(ctx, levels); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	after, err := s.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := after - before; got != writers*each {
		t.Errorf("the generation grew by %d over %d writes", got, writers*each)
	}
}
