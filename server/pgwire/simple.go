package pgwire

import (
	"errors"
	"strings"

	"github.com/jackc/pgproto3/v2"

	"github.com/sluicedb/sluice/exec/engine"
)

// handleSimple runs a simple-protocol Query: each statement in turn, one CommandComplete
// each, a single ReadyForQuery at the end. An error stops the rest (implicit transaction).
func (c *conn) handleSimple(q string) error {
	// The simple protocol destroys the unnamed statement and portal.
	delete(c.stmts, "")
	if p := c.portals[""]; p != nil {
		p.close()
		delete(c.portals, "")
	}
	pieces, err := c.split(q)
	if err != nil {
		c.sendError(err, q, 0)
		c.failTx()
		c.readyForQuery()
		return c.connErr()
	}
	if len(pieces) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
		c.readyForQuery()
		return c.connErr()
	}
	for _, pc := range pieces {
		st, err := c.analyze(pc.text)
		if err == nil {
			p := &portal{st: st, text: pc.text}
			err = c.execPortal(p, 0, true)
			p.close()
		}
		if err != nil {
			if errors.Is(err, errConnGone) {
				return err
			}
			c.sendError(err, q, pc.offset)
			c.failTx()
			break
		}
		if c.err != nil {
			return errConnGone
		}
	}
	c.readyForQuery()
	return c.connErr()
}

// split cuts a Query string into statements. A single statement (the common case, and every
// psql catalog query) is never shown to the engine's splitter; several are split by the
// engine's splitter, falling back to the lexical one when the engine cannot split (session
// statements it does not know, or its splitter not being available).
func (c *conn) split(q string) ([]piece, error) {
	lp, lerr := splitLexical(q)
	if lerr == nil && len(lp) <= 1 {
		return lp, nil
	}
	var texts []string
	var err error
	if sp, ok := c.srv.backend.(StatementSplitter); ok {
		texts, err = sp.SplitStatements(q)
	} else {
		texts, err = engine.SplitStatements(q)
	}
	if err != nil {
		var ee *engine.Error
		if lerr != nil && errors.As(err, &ee) {
			return nil, err
		}
		if lerr != nil {
			return nil, &pgError{code: codeSyntax, msg: lerr.Error()}
		}
		return lp, nil
	}
	out := make([]piece, 0, len(texts))
	pos := 0
	for _, t := range texts {
		if strings.TrimSpace(t) == "" {
			continue
		}
		off := -1
		if i := strings.Index(q[pos:], t); i >= 0 {
			off = pos + i
			pos = off + len(t)
		}
		out = append(out, piece{text: t, offset: off})
	}
	return out, nil
}
