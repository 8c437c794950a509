package pgwire

import (
	"fmt"

	"github.com/jackc/pgproto3/v2"

	"github.com/sluicedb/sluice/exec/engine"
)

// The extended protocol: Parse analyses and infers parameter types, Bind substitutes
// parameters into the text (the engine has no placeholders), Describe asks the engine for
// the result shape without running anything, and Execute starts the query, possibly
// suspending after MaxRows rows. Named statements live until Close, DEALLOCATE or DISCARD
// ALL; portals until Close, the end of the implicit transaction (Sync in state 'I'), or the
// next Bind of the same name.

func (c *conn) handleExtended(msg pgproto3.FrontendMessage) error {
	switch m := msg.(type) {
	case *pgproto3.Parse:
		return c.handleParse(m)
	case *pgproto3.Bind:
		return c.handleBind(m)
	case *pgproto3.Describe:
		return c.handleDescribe(m)
	case *pgproto3.Execute:
		p := c.portals[m.Portal]
		if p == nil {
			return &pgError{code: codeInvalidCursorName, msg: fmt.Sprintf("portal %q does not exist", m.Portal)}
		}
		err := c.execPortal(p, int(m.MaxRows), false)
		if err != nil {
			p.close()
			p.done = true
		}
		return err
	case *pgproto3.Close:
		switch m.ObjectType {
		case 'S':
			delete(c.stmts, m.Name)
		case 'P':
			if p := c.portals[m.Name]; p != nil {
				p.close()
				delete(c.portals, m.Name)
			}
		default:
			return newErr(codeProtocolViolation, fmt.Sprintf("invalid Close type %q", m.ObjectType))
		}
		c.send(&pgproto3.CloseComplete{})
		return nil
	}
	return nil
}

func (c *conn) handleSync() {
	if c.tx == 'I' {
		for name, p := range c.portals {
			p.close()
			delete(c.portals, name)
		}
	}
	c.readyForQuery()
}

func (c *conn) handleParse(m *pgproto3.Parse) error {
	if m.Name != "" {
		if _, dup := c.stmts[m.Name]; dup {
			return &pgError{code: codeDuplicateStatement, msg: fmt.Sprintf("prepared statement %q already exists", m.Name)}
		}
	}
	if pieces, err := splitLexical(m.Query); err == nil && len(pieces) > 1 {
		return newErr(codeSyntax, "cannot insert multiple commands into a prepared statement")
	}
	st, err := c.analyze(m.Query)
	if err != nil {
		return err
	}
	st.name = m.Name
	st.paramOIDs = inferParamTypes(st.toks, m.ParameterOIDs, c.srv.backend.Sources)
	c.stmts[m.Name] = st
	c.send(&pgproto3.ParseComplete{})
	return nil
}

func (c *conn) handleBind(m *pgproto3.Bind) error {
	st := c.stmts[m.PreparedStatement]
	if st == nil {
		return &pgError{code: codeUndefinedStatement, msg: fmt.Sprintf("prepared statement %q does not exist", m.PreparedStatement)}
	}
	if old := c.portals[m.DestinationPortal]; old != nil {
		if m.DestinationPortal != "" {
			return &pgError{code: codeDuplicateCursor, msg: fmt.Sprintf("portal %q already exists", m.DestinationPortal)}
		}
		old.close()
		delete(c.portals, "")
	}
	if len(m.Parameters) != len(st.paramOIDs) {
		return newErr(codeProtocolViolation, fmt.Sprintf("bind message supplies %d parameters, but prepared statement %q requires %d",
			len(m.Parameters), m.PreparedStatement, len(st.paramOIDs)))
	}
	if n := len(m.ParameterFormatCodes); n > 1 && n != len(m.Parameters) {
		return newErr(codeProtocolViolation, fmt.Sprintf("bind message has %d parameter formats but %d parameters", n, len(m.Parameters)))
	}
	for _, f := range m.ResultFormatCodes {
		if f != 0 && f != 1 {
			return newErr(codeProtocolViolation, fmt.Sprintf("unsupported format code: %d", f))
		}
	}
	p := &portal{name: m.DestinationPortal, st: st, src: st, text: st.text, formats: m.ResultFormatCodes}
	if len(m.Parameters) > 0 {
		lits := make([]string, len(m.Parameters))
		for i, v := range m.Parameters {
			lit, err := paramLiteral(st.paramOIDs[i], formatFor(m.ParameterFormatCodes, i), v)
			if err != nil {
				return err
			}
			lits[i] = lit
		}
		text, err := substituteParams(st.text, st.toks, lits)
		if err != nil {
			return err
		}
		bound, err := c.analyze(text)
		if err != nil {
			return err
		}
		bound.cols, bound.described = st.cols, st.described
		p.st, p.text = bound, text
	}
	c.portals[m.DestinationPortal] = p
	c.send(&pgproto3.BindComplete{})
	return nil
}

func (c *conn) handleDescribe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		st := c.stmts[m.Name]
		if st == nil {
			return &pgError{code: codeUndefinedStatement, msg: fmt.Sprintf("prepared statement %q does not exist", m.Name)}
		}
		cols, err := c.describe(st)
		if err != nil {
			return err
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: st.paramOIDs})
		if cols == nil {
			c.send(&pgproto3.NoData{})
		} else {
			c.send(rowDescription(cols, nil))
		}
	case 'P':
		p := c.portals[m.Name]
		if p == nil {
			return &pgError{code: codeInvalidCursorName, msg: fmt.Sprintf("portal %q does not exist", m.Name)}
		}
		cols := p.cols
		if !p.started {
			var err error
			if cols, err = c.describe(p.st); err != nil {
				return err
			}
		}
		if cols == nil {
			c.send(&pgproto3.NoData{})
		} else {
			c.send(rowDescription(cols, p.formats))
		}
	default:
		return newErr(codeProtocolViolation, fmt.Sprintf("invalid Describe type %q", m.ObjectType))
	}
	return nil
}

// describe returns a statement's result columns without running it (nil: no rows).
func (c *conn) describe(st *stmt) ([]engine.Column, error) {
	if st.described {
		return st.cols, nil
	}
	var cols []engine.Column
	switch st.kind {
	case kLocal:
		if !st.rowsLocal {
			break
		}
		res, err := st.local(c.ctx)
		if err != nil {
			return nil, err
		}
		cols = res.cols
	case kFetch:
		if cur := c.cursors[st.fetch.name]; cur != nil && !st.fetch.move {
			return cur.cols, nil // not cached: the cursor may be re-declared
		}
		return nil, nil
	case kQuery, kExec:
		lits := make([]string, len(st.paramOIDs))
		for i, oid := range st.paramOIDs {
			lits[i] = placeholderLiteral(oid)
		}
		text, err := substituteParams(st.text, st.toks, lits)
		if err != nil {
			return nil, err
		}
		ctx, end := c.beginStatement()
		prep, err := c.srv.backend.Prepare(ctx, c.sess, text)
		end()
		if err != nil {
			if st.kind == kExec {
				return nil, nil // Execute will report it; DDL may depend on earlier statements
			}
			return nil, c.stmtErr(ctx, err)
		}
		if len(prep.Columns) > 0 {
			cols = fillTypes(prep.Columns, nil)
		}
	}
	st.cols, st.described = cols, true
	return cols, nil
}

// checkShape raises PostgreSQL's "cached plan must not change result type" when a described
// statement now returns different columns (a stream was re-created). JDBC re-prepares on
// exactly this SQLSTATE and routine; pgx drops its cache after any error.
func checkShape(want, got []engine.Column) error {
	same := len(want) == len(got)
	for i := 0; same && i < len(want); i++ {
		same = typeOID(want[i].Type) == typeOID(got[i].Type)
	}
	if same {
		return nil
	}
	return &pgError{code: codeFeatureNotSupp, msg: "cached plan must not change result type", routine: "RevalidateCachedQuery"}
}
