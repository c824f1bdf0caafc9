package api

import _ "embed"

// openAPIDoc is the OpenAPI 3 document of the API, served at
// GET /v1/openapi.json. A test keeps its paths equal to the route table.
//
//go:embed openapi.json
var openAPIDoc []byte
