package parse

// keywords are ksqlDB's lexer keywords (SqlBase.g4). Those not in nonReserved are reserved: they
// cannot be unquoted identifiers, which is also what lets the front end find clause boundaries
// (FROM, WHERE, JOIN...) without parsing the expressions in between.
var keywords = setOf(
	"EMIT", "CHANGES", "FINAL", "SELECT", "FROM", "AS", "ALL", "DISTINCT", "WHERE", "WITHIN",
	"WINDOW", "GROUP", "BY", "HAVING", "LIMIT", "AT", "OR", "AND", "IN", "NOT", "EXISTS",
	"BETWEEN", "LIKE", "ESCAPE", "IS", "NULL", "TRUE", "FALSE", "INTEGER", "DATE", "TIME",
	"TIMESTAMP", "INTERVAL", "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND", "MILLISECOND",
	"YEARS", "MONTHS", "DAYS", "HOURS", "MINUTES", "SECONDS", "MILLISECONDS", "ZONE", "TUMBLING",
	"HOPPING", "SIZE", "ADVANCE", "RETENTION", "GRACE", "PERIOD", "CASE", "WHEN", "THEN", "ELSE",
	"END", "JOIN", "FULL", "OUTER", "INNER", "LEFT", "RIGHT", "ON", "PARTITION", "STRUCT", "WITH",
	"VALUES", "CREATE", "TABLE", "TOPIC", "STREAM", "STREAMS", "INSERT", "DELETE", "INTO",
	"DESCRIBE", "EXTENDED", "PRINT", "EXPLAIN", "ANALYZE", "TYPE", "TYPES", "CAST", "SHOW", "LIST",
	"TABLES", "TOPICS", "QUERY", "QUERIES", "TERMINATE", "LOAD", "COLUMNS", "COLUMN", "PARTITIONS",
	"FUNCTIONS", "FUNCTION", "DROP", "TO", "RENAME", "ARRAY", "MAP", "SET", "DEFINE", "UNDEFINE",
	"RESET", "SESSION", "SAMPLE", "EXPORT", "CATALOG", "PROPERTIES", "BEGINNING", "UNSET", "RUN",
	"SCRIPT", "DECIMAL", "KEY", "CONNECTOR", "CONNECTORS", "SINK", "SOURCE", "NAMESPACE",
	"MATERIALIZED", "VIEW", "PRIMARY", "REPLACE", "ASSERT", "ADD", "ALTER", "VARIABLES", "PLUGINS",
	"HEADERS", "HEADER", "SYSTEM", "TIMEOUT", "SCHEMA", "SUBJECT", "ID", "IF", "STRING",
)

// nonReserved keywords may also be used as unquoted identifiers.
var nonReserved = setOf(
	"SHOW", "TABLES", "COLUMNS", "COLUMN", "PARTITIONS", "FUNCTIONS", "FUNCTION", "SESSION",
	"STRUCT", "MAP", "ARRAY", "PARTITION", "INTEGER", "DATE", "TIME", "TIMESTAMP", "INTERVAL",
	"ZONE", "STRING", "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND", "EXPLAIN", "ANALYZE",
	"TYPE", "TYPES", "SET", "RESET", "IF", "SOURCE", "SINK", "PRIMARY", "KEY", "EMIT", "CHANGES",
	"FINAL", "ESCAPE", "REPLACE", "ASSERT", "ALTER", "ADD", "HEADER", "HEADERS", "GRACE",
	"PERIOD", "DEFINE", "UNDEFINE", "VARIABLES", "PLUGINS", "SYSTEM", "TIMEOUT", "SCHEMA",
	"SUBJECT", "ID",
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// isReserved reports whether an upper-cased word cannot be an unquoted identifier.
func isReserved(upper string) bool { return keywords[upper] && !nonReserved[upper] }

// durationUnits maps ksql window units to milliseconds.
var durationUnits = map[string]int64{
	"DAY": 86400000, "DAYS": 86400000,
	"HOUR": 3600000, "HOURS": 3600000,
	"MINUTE": 60000, "MINUTES": 60000,
	"SECOND": 1000, "SECONDS": 1000,
	"MILLISECOND": 1, "MILLISECONDS": 1,
}
