package config

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest configuration file steward reads, in bytes.
const MaxFileSize = 4 << 20

// checkText returns why data cannot be a configuration file's text, or ""
// when it can: it is at most MaxFileSize bytes of UTF-8, with at most one
// byte order mark. The YAML library would decode UTF-16 by its BOM, and
// take a second UTF-8 BOM as part of the first key.
func checkText(data []byte) string {
	bom := []byte{0xEF, 0xBB, 0xBF}
	switch {
	case len(data) > MaxFileSize:
		return fmt.Sprintf("the file is larger than %d MB, the limit of a configuration file", MaxFileSize>>20)
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}), bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return "the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8"
	case bytes.HasPrefix(data, append(bom, bom...)):
		return "the file starts with two UTF-8 byte order marks: remove them"
	}
	return ""
}

// plainTags are the tags a value may be given explicitly: YAML's core
// schema. Any other (!!binary, !!timestamp, !!python/object, a custom
// !tag) is an error, as steward would read it as a plain string or
// mapping and not as what the tag asks for.
var plainTags = []string{"!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq"}

// checkTags reports every node of doc given a tag that is not one of
// plainTags and returns whether there was none.
func (p *parser) checkTags(doc *yaml.Node) bool {
	ok := true
	stack := []*yaml.Node{doc}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Style&yaml.TaggedStyle != 0 && !slices.Contains(plainTags, n.ShortTag()) {
			p.errorf(n, "YAML tag %s is not supported; steward takes only %s", n.Tag, strings.Join(plainTags, ", "))
			ok = false
		}
		stack = append(stack, n.Content...)
	}
	return ok
}
