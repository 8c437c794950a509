package qtt

import (
	"regexp"
	"strings"
)

// Skip reasons. A case is skipped only for one of these; everything else that does not pass is
// a failure.
const (
	SkipDisabled  = "disabled (enabled: false)"
	SkipTestUDF   = "test-only UDF"
	SkipProtoPull = "testPullWithProtoFormat (PROTOBUF query responses not enabled)"
	// SkipRegistryPrefix is followed by the format, e.g. "schema registry format: AVRO".
	SkipRegistryPrefix = "schema registry format: "
)

// registryFormats need a Schema Registry (PROTOBUF_NOSR does not).
var registryFormats = []string{"AVRO", "PROTOBUF", "JSON_SR"}

// formatProp finds FORMAT='X', KEY_FORMAT='X' and VALUE_FORMAT='X' in a statement.
var formatProp = regexp.MustCompile(`(?i)\b(?:key_|value_)?format\s*=\s*'([A-Za-z_]+)'`)

// testUDF finds calls of functions that only exist in ksqlDB's test jars: the UDFs, UDTFs and
// UDAFs under ksqldb-engine/src/test (FourArgUdaf, ThrowingUdtf, ...) and TOSTRUCT from the
// udf-example.jar its tests load.
var testUDF = regexp.MustCompile(`(?i)\b(TEST_UDF|TEST_UDTF|TEST_UDAF|BAD_UDF|WHENCONDITION|WHENRESULT|VAR_ARG|MID_VAR_ARG|MULTI_ARG|FOUR_ARG|FIVE_ARG|OBJ_COL_ARG|GENERIC_VAR_ARG|THROWING_UDTF|TOSTRUCT)\s*\(`)

// SkipReason returns why c is skipped, or "" when it runs. proto says whether RQTT cases with
// testPullWithProtoFormat run (their PROTOBUF responses are then checked too).
func SkipReason(c *Case, proto bool) string {
	if !c.Enabled {
		return SkipDisabled
	}
	if f := registryFormat(c); f != "" {
		return SkipRegistryPrefix + f
	}
	for _, s := range c.Statements {
		if testUDF.MatchString(s) {
			return SkipTestUDF
		}
	}
	if c.TestPullWithProtoFormat && !proto {
		return SkipProtoPull
	}
	return ""
}

// registryFormat returns the first Schema Registry format a case uses: in a statement's WITH
// clause, in a default-format property, or on an explicit topic (including topics with
// registered schemas).
func registryFormat(c *Case) string {
	for _, s := range c.Statements {
		for _, m := range formatProp.FindAllStringSubmatch(s, -1) {
			if f := isRegistryFormat(m[1]); f != "" {
				return f
			}
		}
	}
	for _, k := range []string{"ksql.persistence.default.format.key", "ksql.persistence.default.format.value"} {
		if f := isRegistryFormat(c.Properties[k]); f != "" {
			return f
		}
	}
	for _, t := range c.Topics {
		if f := isRegistryFormat(t.KeyFormat); f != "" {
			return f
		}
		if f := isRegistryFormat(t.ValueFormat); f != "" {
			return f
		}
	}
	return ""
}

func isRegistryFormat(f string) string {
	f = strings.ToUpper(strings.TrimSpace(f))
	for _, r := range registryFormats {
		if f == r {
			return r
		}
	}
	return ""
}
