// Package graph computes the chain call graph of a checked policy, a fact
// shared by the lint passes (Require graph.Analyzer and read
// pass.ResultOf[graph.Analyzer].(*graph.Graph)).
//
// # Analyzer graph
//
// graph: chain call graph
//
// Computes the chain call graph, hook reachability and jump cycles for other
// passes.
//
// Per table, every rule with a jump or goto action is an edge from its
// chain to the target chain. From the base chains, the graph records which
// hooks (and which base chains) can reach every chain through jumps and
// gotos, a shortest call path from each reaching base chain, and the
// strongly connected components with one concrete cycle for each loop.
// Jumps never cross tables, so chains of different tables never share an
// edge. graph reports no diagnostics itself.
package graph

import _ "embed" // for doc

//go:embed doc.go
var doc string
