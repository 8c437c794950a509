package engine

import (
	"strings"

	"github.com/sluicedb/sluice/exec/eval"
	"github.com/sluicedb/sluice/sql/ast"
	"github.com/sluicedb/sluice/sql/types"
)

const pullHint = " See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a push query."

// validatePullWhere applies ksqlDB's rules for the WHERE clause of a pull query on a table
// when table scans are disabled: every disjunct must pin the key with '=' (or IN) against
// a value that needs no row to evaluate.
func validatePullWhere(where ast.Expr, src *source) error {
	keys := map[string]bool{}
	for _, c := range src.keyCols() {
		keys[c.Name] = true
	}
	for _, disj := range splitOn(where, "OR") {
		sawKey := map[string]bool{}
		for _, conj := range splitOn(disj, "AND") {
			switch n := conj.(type) {
			case *ast.BinaryOp:
				lc, rc := refsColumn(n.L), refsColumn(n.R)
				switch {
				case lc == "" && rc == "":
					return errf("A comparison must directly reference a key column.")
				case lc != "" && rc != "":
					return errf("A comparison must be between a key column and a resolvable expression.")
				}
				col := lc + rc
				if col == eval.WindowStart || col == eval.WindowEnd {
					continue
				}
				if !keys[col] {
					continue
				}
				side := n.L
				if lc == "" {
					side = n.R
				}
				if _, bare := side.(*ast.ColumnRef); !bare {
					return errf("A comparison must directly reference a key column.")
				}
				if n.Op == "!=" || n.Op == "<>" {
					return errf("Bound on key columns '[%s]' must currently be '='. ", keyColumnsText(src))
				}
				if n.Op != "=" {
					return errf("A comparison condition on the key column cannot be combined with other comparisons such as an IN predicate")
				}
				if sawKey[col] {
					return errf("A comparison condition on the key column cannot be combined with other comparisons such as an IN predicate")
				}
				sawKey[col] = true
			case *ast.Like:
				// ksqlDB's key extraction accepts a LIKE only of a column against a pattern.
				if _, bare := n.X.(*ast.ColumnRef); !bare {
					return errf("Like condition must be between strings")
				}
			case *ast.InList:
				col := refsColumn(n.X)
				if keys[col] && sawKey[col] {
					return errf("A comparison condition on the key column cannot be combined with other comparisons such as an IN predicate")
				}
				if keys[col] {
					for _, x := range n.List {
						if refsColumn(x) != "" {
							return errf("A comparison must be between a key column and a resolvable expression.")
						}
					}
					sawKey[col] = true
				}
			}
		}
		if len(sawKey) == 0 {
			return errf("WHERE clause missing key column for disjunct: %s", eval.Text(disj))
		}
		if len(sawKey) < len(keys) {
			return errf("Multi-column sources must specify every key in the WHERE clause. Specified: %s Expected: %s", strings.Join(sortedKeys(sawKey), ", "), keyNames(src))
		}
	}
	return nil
}

// checkPullKeyLiterals rejects NULL keys and IN-list literals of another type than the key.
func checkPullKeyLiterals(where ast.Expr, src *source) error {
	var err error
	walkExpr(where, func(x ast.Expr) {
		if err != nil {
			return
		}
		switch n := x.(type) {
		case *ast.BinaryOp:
			for _, side := range [][2]ast.Expr{{n.L, n.R}, {n.R, n.L}} {
				if c, ok := side[0].(*ast.ColumnRef); ok && isKeyCol(src, c.Name) {
					if _, isNull := side[1].(*ast.NullLit); isNull && n.Op == "=" {
						err = errf("Error in WHERE expression: Comparison with NULL not supported: %s = NULL\nUse 'IS NULL' or 'IS NOT NULL' instead.\nStatement: %s", keyType(src, c.Name), eval.Text(n))
					}
				}
			}
		case *ast.InList:
			c, ok := n.X.(*ast.ColumnRef)
			if !ok || !isKeyCol(src, c.Name) {
				return
			}
			kt := keyType(src, c.Name)
			for _, item := range n.List {
				if _, isNull := item.(*ast.NullLit); isNull {
					err = errf("Primary key columns can not be NULL: (%s = null)", c.Name)
					return
				}
				if s, ok := item.(*ast.StringLit); ok && kt.Kind != types.KindString {
					err = errf("'%s' can not be converted to the type of the key column: %s %s KEY", s.Val, c.Name, kt)
					return
				}
			}
		}
	})
	return err
}

func isKeyCol(src *source, name string) bool {
	for _, c := range src.keyCols() {
		if c.Name == name {
			return true
		}
	}
	return false
}

func keyType(src *source, name string) *types.Type {
	for _, c := range src.keyCols() {
		if c.Name == name {
			return c.Type
		}
	}
	return types.StringType
}

func splitOn(e ast.Expr, op string) []ast.Expr {
	if b, ok := e.(*ast.BinaryOp); ok && b.Op == op {
		return append(splitOn(b.L, op), splitOn(b.R, op)...)
	}
	return []ast.Expr{e}
}

// refsColumn returns the column an expression references (the first found), or "".
// keyColumnsText lists a source's key columns as ksqlDB prints them: `ID` STRING KEY, ...
func keyColumnsText(src *source) string {
	var parts []string
	for _, c := range src.keyCols() {
		parts = append(parts, "`"+c.Name+"` "+c.Type.String()+" KEY")
	}
	return strings.Join(parts, ", ")
}

func refsColumn(e ast.Expr) string {
	name := ""
	walkExpr(e, func(x ast.Expr) {
		if c, ok := x.(*ast.ColumnRef); ok && name == "" {
			name = c.Name
		}
	})
	return name
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
