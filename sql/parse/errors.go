package parse

import (
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/sluicedb/sluice/sql/ast"
)

// ErrorKind tells grammar violations from errors found while building the tree.
type ErrorKind uint8

const (
	// Syntax is a grammar violation (ksqlDB's ANTLR errors).
	Syntax ErrorKind = iota
	// Semantic is raised on a grammatical statement while building its tree: overflowing
	// literals, KEY in a table, WINDOW_SIZE on a SESSION source, unsupported statements.
	Semantic
)

// errStyle selects how Error() prints the position. ksqlDB prints positions three ways and the
// conformance corpus matches message substrings, so we reproduce each where ksqlDB uses it.
type errStyle uint8

const (
	styleLine         errStyle = iota // "line L:C: msg"
	styleNodeLocation                 // "Line: L, Col: C: msg" (ksqlDB's NodeLocation prefix)
	// styleShifted is ksqlDB's form for errors thrown while building literals: prefixed "Failed
	// to prepare statement: " and with the column one to the right, because ksqlDB adds 1 twice
	// ("line 2:40: Invalid numeric literal" for a literal at column 39).
	styleShifted
)

// Error is every error this package returns. Line and Col (1-based, columns counted in
// characters) always locate the offending text in the input given to Parse.
type Error struct {
	Line, Col int
	Msg       string
	Kind      ErrorKind
	style     errStyle
}

// Error prints "line L:C: Syntax Error\n<detail>" for syntax errors and "line L:C: <msg>" for
// semantic ones, except where ksqlDB prints a different position format (see errStyle).
func (e *Error) Error() string {
	switch {
	case e.Kind == Syntax && e.Msg == "":
		return fmt.Sprintf("line %d:%d: Syntax Error", e.Line, e.Col)
	case e.Kind == Syntax:
		return fmt.Sprintf("line %d:%d: Syntax Error\n%s", e.Line, e.Col, e.Msg)
	case e.style == styleNodeLocation:
		return fmt.Sprintf("Line: %d, Col: %d: %s", e.Line, e.Col, e.Msg)
	case e.style == styleShifted:
		return fmt.Sprintf("Failed to prepare statement: line %d:%d: %s", e.Line, e.Col+1, e.Msg)
	}
	return fmt.Sprintf("line %d:%d: %s", e.Line, e.Col, e.Msg)
}

// Brief is the message without a syntax error's detail line ("line 1:24: Syntax Error"). ksqlDB
// keeps syntax details out of logs and its REST error bodies, which show only this form.
func (e *Error) Brief() string {
	if e.Kind == Syntax {
		return fmt.Sprintf("line %d:%d: Syntax Error", e.Line, e.Col)
	}
	return e.Error()
}

// lineIndex converts byte offsets of one input text to 1-based line:column.
type lineIndex struct {
	text   string
	starts []int // byte offset of each line start
}

func newLineIndex(text string) *lineIndex {
	li := &lineIndex{text: text, starts: []int{0}}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			li.starts = append(li.starts, i+1)
		}
	}
	return li
}

func (li *lineIndex) pos(off int) ast.Pos {
	if off < 0 {
		off = 0
	}
	if off > len(li.text) {
		off = len(li.text)
	}
	line := sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > off }) - 1
	if line < 0 {
		line = 0
	}
	col := utf8.RuneCountInString(li.text[li.starts[line]:off]) + 1
	return ast.Pos{Line: line + 1, Col: col}
}
