package qtt

// Feature areas reported in docs/conformance.md.
const (
	AreaFunctions    = "functions"
	AreaExpressions  = "expressions"
	AreaWindows      = "windows"
	AreaJoins        = "joins"
	AreaAggregation  = "aggregation"
	AreaKeys         = "keys/partitioning"
	AreaFormats      = "formats"
	AreaRESTPull     = "REST pull"
	AreaRESTPush     = "REST push"
	AreaRESTInsert   = "REST insert"
	AreaOther        = "other"
	areaUnclassified = AreaOther
)

// Areas lists the feature areas in report order.
var Areas = []string{
	AreaFunctions, AreaExpressions, AreaWindows, AreaJoins, AreaAggregation, AreaKeys,
	AreaFormats, AreaRESTPull, AreaRESTPush, AreaRESTInsert, AreaOther,
}

// fileAreas maps a corpus file stem to its feature area. Every file of the corpus snapshot is
// listed: a file name alone cannot tell a function test from anything else.
var fileAreas = map[string]string{
	// functions (scalar, table and lambda functions)
	"array-remove": AreaFunctions, "arraycontains": AreaFunctions, "arrayjoin": AreaFunctions,
	"bytes-lpad-rpad": AreaFunctions, "bytes": AreaFunctions, "concat": AreaFunctions,
	"convert-tz": AreaFunctions, "cube": AreaFunctions, "datesub": AreaFunctions,
	"explode": AreaFunctions, "format-date": AreaFunctions, "from-days": AreaFunctions,
	"geodistance": AreaFunctions, "greatest": AreaFunctions, "initcap": AreaFunctions,
	"is_json_string": AreaFunctions, "json_array_length": AreaFunctions, "json_items": AreaFunctions,
	"json_keys": AreaFunctions, "json_records": AreaFunctions, "len": AreaFunctions,
	"math": AreaFunctions, "md5": AreaFunctions, "parse-time": AreaFunctions,
	"replace": AreaFunctions, "slice": AreaFunctions, "split-to-map": AreaFunctions,
	"split": AreaFunctions, "string-lpad-rpad": AreaFunctions, "string": AreaFunctions,
	"stringdate": AreaFunctions, "stringtimestamp": AreaFunctions, "struct-udfs": AreaFunctions,
	"substring": AreaFunctions, "table-functions": AreaFunctions, "time": AreaFunctions,
	"timeadd": AreaFunctions, "timestamp-to-string": AreaFunctions, "timestamp": AreaFunctions,
	"timestampsub": AreaFunctions, "timesub": AreaFunctions, "to_json_string": AreaFunctions,
	"unix-date": AreaFunctions, "unix-timestamp": AreaFunctions, "url": AreaFunctions,
	"transform-array": AreaFunctions, "reduce-map": AreaFunctions, "complex-lambda": AreaFunctions,

	// expressions, literals, types, identifiers
	"between": AreaExpressions, "binary-comparison": AreaExpressions,
	"case-expression": AreaExpressions, "comparison-expression": AreaExpressions,
	"create-struct": AreaExpressions, "create-type": AreaExpressions, "create_map": AreaExpressions,
	"decimal": AreaExpressions, "floating-point": AreaExpressions, "identifiers": AreaExpressions,
	"in": AreaExpressions, "like": AreaExpressions, "literals": AreaExpressions,
	"map": AreaExpressions, "more-complex-struct": AreaExpressions, "operators": AreaExpressions,
	"project-filter": AreaExpressions, "quoted-identifiers": AreaExpressions,
	"select-struct-all": AreaExpressions, "where": AreaExpressions,

	// windows and time
	"session-windows": AreaWindows, "window-bounds": AreaWindows, "windowed-source": AreaWindows,
	"suppress": AreaWindows, "timestamp-extractor": AreaWindows,
	"magic-timestamp-conversion": AreaWindows,

	// joins
	"joins": AreaJoins, "fk-join": AreaJoins, "fk-n-way-join": AreaJoins,
	"stream-table-join": AreaJoins, "join-with-custom-timestamp": AreaJoins,

	// aggregation
	"average-udaf": AreaAggregation, "average": AreaAggregation, "correlation-udaf": AreaAggregation,
	"count-distinct": AreaAggregation, "count": AreaAggregation,
	"generic-variadic-udaf": AreaAggregation, "group-by": AreaAggregation, "having": AreaAggregation,
	"histogram": AreaAggregation, "latest-offset-udaf": AreaAggregation,
	"middle-variadic-udaf": AreaAggregation, "multi-arg-udaf": AreaAggregation,
	"obj-var-col-arg-udaf": AreaAggregation, "standarddeviation": AreaAggregation,
	"sum": AreaAggregation, "test-custom-udaf": AreaAggregation, "topk-distinct": AreaAggregation,
	"udaf": AreaAggregation,

	// keys and partitioning
	"partition-by": AreaKeys, "multi-col-keys": AreaKeys, "row-offset-and-partition": AreaKeys,
	"system-columns": AreaKeys,

	// formats and serdes
	"formats": AreaFormats, "delimited": AreaFormats, "elements": AreaFormats,
	"serdes": AreaFormats, "none": AreaFormats, "as_value": AreaFormats, "headers": AreaFormats,

	// other statements and sources
	"asserts": AreaOther, "source-stream": AreaOther, "table": AreaOther,

	// REST
	"insert-values":                                       AreaRESTInsert,
	"push-queries":                                        AreaRESTPush,
	"pull-queries-against-cst-materialized":               AreaRESTPull,
	"pull-queries-against-materialized-aggregates":        AreaRESTPull,
	"pull-queries-against-materialized-table-table-joins": AreaRESTPull,
	"pull-queries-against-streams":                        AreaRESTPull,
	"pull-queries-complex-lambda":                         AreaRESTPull,
	"pull-queries-protobuf":                               AreaRESTPull,
	"pull-queries-with-predicates":                        AreaRESTPull,
	"pull-queries-with-struct-star":                       AreaRESTPull,
}

// AreaOf returns the feature area of a corpus file. Unknown RQTT files count as REST pull
// when their name says pull, REST push otherwise; unknown QTT files as other.
func AreaOf(stem string, rest bool) string {
	if a, ok := fileAreas[stem]; ok {
		return a
	}
	if rest {
		if len(stem) >= 4 && stem[:4] == "pull" {
			return AreaRESTPull
		}
		return AreaRESTPush
	}
	return areaUnclassified
}
