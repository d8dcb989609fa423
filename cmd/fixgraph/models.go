package main

import (
	"strings"

	"github.com/fixgraph/fixgraph/search"
)

// modelNames lists the embedding models --embedding-model takes, for the flag's help.
func modelNames() string {
	names := make([]string, len(search.Models))
	for i, m := range search.Models {
		names[i] = m.Name
	}
	return strings.Join(names, ", ")
}
