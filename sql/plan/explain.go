package plan

import (
	"fmt"
	"strings"
)

// Explain prints a step tree the way EXPLAIN shows the execution plan: one step a line, the
// sink first, inputs indented below their consumer, each step with its versioned type.
func Explain(root Step, sinkName string) string {
	var sb strings.Builder
	var walk func(s Step, depth int)
	walk = func(s Step, depth int) {
		sb.WriteString(strings.Repeat("  ", depth+1))
		sb.WriteString("> ")
		sb.WriteString(s.StepType())
		if d := describe(s, sinkName); d != "" {
			sb.WriteString(" ")
			sb.WriteString(d)
		}
		sb.WriteString("\n")
		for _, in := range s.Inputs() {
			walk(in, depth+1)
		}
	}
	walk(root, 0)
	return sb.String()
}

func describe(s Step, sinkName string) string {
	switch st := s.(type) {
	case *SinkStep:
		return fmt.Sprintf("%s %s [%s]", st.Kind, sinkName, columnsText(st.Schema))
	case *SelectStep:
		var names, keys []string
		for _, it := range st.Items {
			names = append(names, it.Name)
		}
		for _, k := range st.KeyOrder {
			if k >= 0 && k < len(st.Items) {
				keys = append(keys, st.Items[k].Name)
			}
		}
		return fmt.Sprintf("[%s] key=[%s]", strings.Join(names, ", "), strings.Join(keys, ", "))
	case *AggregateStep:
		out := fmt.Sprintf("group=[%s] aggregates=[%s]", strings.Join(st.GroupBy, ", "), strings.Join(st.Aggregates, ", "))
		if w := st.Window; w != nil {
			out += fmt.Sprintf(" window=%s(size=%dms", w.Type, w.SizeMs)
			if w.Type == "HOPPING" {
				out += fmt.Sprintf(", advance=%dms", w.AdvanceMs)
			}
			if w.GraceMs >= 0 {
				out += fmt.Sprintf(", grace=%dms", w.GraceMs)
			}
			out += ")"
		}
		if st.Having != "" {
			out += " having=[" + st.Having + "]"
		}
		if st.EmitFinal {
			out += " emit=FINAL"
		}
		return out
	case *PartitionByStep:
		if st.Null {
			return "[NULL]"
		}
		var keys []string
		for _, k := range st.Keys {
			keys = append(keys, k.Expr+" AS "+k.Name)
		}
		return "[" + strings.Join(keys, ", ") + "]"
	case *FilterStep:
		return "[" + st.Condition + "]"
	case *JoinStep:
		var cs []string
		for _, c := range st.Clauses {
			cs = append(cs, fmt.Sprintf("%s %s %s = %s", c.Type, c.Kind, c.LeftKey, c.RightKey))
		}
		return "[" + strings.Join(cs, "; ") + "]"
	case *SourceStep:
		src := st.Source
		if src == nil {
			return ""
		}
		key := src.Key.Name
		if !hasKey(src.Columns) {
			key = "NONE"
		}
		out := fmt.Sprintf("%s %s", src.Kind, src.Name)
		if st.Alias != "" && st.Alias != src.Name {
			out += " AS " + st.Alias
		}
		return out + fmt.Sprintf(" [topic=%s, key=%s, value=%s]", src.Topic, key, src.Value.Name)
	}
	return ""
}

func hasKey(cols []Column) bool {
	for _, c := range cols {
		if c.Namespace == "KEY" {
			return true
		}
	}
	return false
}

func columnsText(cols []Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Name + " " + c.Type
		if c.Namespace == "KEY" {
			parts[i] += " KEY"
		}
	}
	return strings.Join(parts, ", ")
}
