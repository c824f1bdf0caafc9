package config

import (
	"maps"
	"slices"
	"strings"

	"github.com/stewardhq/steward"
)

// Schema returns a JSON Schema (draft 2020-12) of the configuration file as
// users write it, for editors that complete and check YAML: durations as
// "10s", sizes as "64MB", a command as a string or a list, depends_on as a
// list or a map of conditions. The kinds of service and the types of
// notifier in reg are in it too; their own keys take any value, which their
// decoders check. Every mapping the parser reads with a fixed set of keys
// is an object here with exactly those keys (schema_test.go holds the two
// together), and every value accepts null, which the parser reads as unset.
func Schema(reg Registry) map[string]any {
	return js{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"title":       "steward configuration",
		"description": "The configuration file of steward (steward.yaml).",
		"type":        []string{"object", "null"},
		"properties": js{
			"node":          sText("the node's name, a host name (default: the machine's)"),
			"data_dir":      sPath("where steward keeps its state"),
			"api":           apiSchema(),
			"web":           sObject(js{"listen": sText("host:port of the dashboard")}),
			"auth":          sObject(js{"local": sList(sObject(js{"match": sText("uid:N, user:NAME or group:NAME"), "role": sEnum(steward.RoleViewer, steward.RoleOperator, steward.RoleAdmin), "tenant": sTenant}))}),
			"services":      sMap(serviceSchema(reg)),
			"checks":        sMap(checkSchema()),
			"alerts":        alertsSchema(),
			"metrics":       metricsSchema(),
			"notify":        sMap(notifierSchema(reg)),
			"notifications": sObject(js{"max_age": sDuration, "min_backoff": sDuration, "max_backoff": sDuration, "keep": sDuration}),
			"bus":           busSchema(),
			"jobs":          sMap(jobSchema()),
			"workflows":     sMap(workflowSchema()),
			"runs":          sObject(js{"keep": sCount, "max_age": sDuration}),
			"tenants":       sWords,
			"audit":         sObject(js{"checkpoint": sObject(js{"every": sDuration, "notify": sWords})}),
		},
		"additionalProperties": false,
		"$defs":                js{"duration": dDuration, "span": dSpan, "size": dSize, "command": dCommand},
	}
}

// js is a JSON Schema, or a part of one.
type js = map[string]any

// The kinds of value the parser reads (yaml.go's readers).
var (
	// sScalar is what str reads: any scalar, taken as text.
	sScalar = js{"type": []string{"string", "number", "boolean", "null"}}
	sFlag   = js{"type": []string{"boolean", "null"}}
	sCount  = js{"type": []string{"integer", "null"}, "minimum": 0}
	// dDuration is a Go duration with a unit, or 0.
	dDuration = js{"anyOf": []js{
		{"type": "string", "pattern": "^(0|" + goDuration + ")$"},
		{"enum": []any{0, nil}},
	}, "description": "a duration: 100ms, 10s, 1m30s"}
	// dSpan is a duration that may count days and weeks.
	dSpan = js{"anyOf": []js{
		{"type": "string", "pattern": "^([0-9]+[dw])*(" + goDuration + ")?$", "minLength": 1},
		{"type": "null"},
	}, "description": "a span of time: 36h, 7d, 2w, 1d12h"}
	dSize = js{"anyOf": []js{
		{"type": "integer", "minimum": 0},
		{"type": "string", "pattern": `^\s*[0-9]+\s*(` + caseless("b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib") + `)?\s*$`},
		{"type": "null"},
	}, "description": "a size in bytes: 512, 10KB, 64MB, 50MiB"}
	// dCommand is a string split like a shell would, or a list of words.
	dCommand = js{"anyOf": []js{
		{"type": "string", "minLength": 1},
		{"type": "array", "minItems": 1, "items": sWord},
		{"type": "null"},
	}, "description": "a command: a string split like a shell would, or a list of words"}
	// sWords is a string or a list of strings.
	sWords = js{"anyOf": []js{{"type": []string{"string", "number", "boolean", "null"}}, {"type": "array", "items": sWord}}}
	sWord  = js{"type": []string{"string", "number", "boolean"}}
	sEnv   = js{"type": []string{"object", "null"}, "additionalProperties": sWord, "description": "environment variables"}
	// sTenant names a tenant that tenants: declares.
	sTenant = sText("the tenant, one that tenants: declares")
	// sAny is a value a kind's or a notifier's decoder checks.
	sAny = js{}

	// The kinds that many keys take are in $defs once.
	sDuration = js{"$ref": "#/$defs/duration"}
	sSpan     = js{"$ref": "#/$defs/span"}
	sSize     = js{"$ref": "#/$defs/size"}
	sCommand  = js{"$ref": "#/$defs/command"}
)

// goDuration matches what time.ParseDuration takes.
const goDuration = `\+?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+`

func sText(description string) js {
	return js{"type": sScalar["type"], "description": description}
}

func sPath(description string) js {
	return sText(description + "; a relative path is from the config file's directory")
}

// sEnum is one of values, as oneOf reads it.
func sEnum(values ...string) js {
	e := make([]any, 0, len(values)+1)
	for _, v := range values {
		e = append(e, v)
	}
	return js{"enum": append(e, nil)}
}

// caseless returns a pattern that matches any of words in any case.
func caseless(sWords ...string) string {
	alts := make([]string, len(sWords))
	for i, w := range sWords {
		var b strings.Builder
		for _, r := range w {
			if up := strings.ToUpper(string(r)); up != string(r) {
				b.WriteString("[" + string(r) + up + "]")
			} else {
				b.WriteRune(r)
			}
		}
		alts[i] = b.String()
	}
	return strings.Join(alts, "|")
}

// sObject is a mapping with the keys of props and no others.
func sObject(props js) js {
	return js{"type": []string{"object", "null"}, "properties": props, "additionalProperties": false}
}

// sMap is a mapping of names to values of schema s.
func sMap(s js) js { return js{"type": []string{"object", "null"}, "additionalProperties": s} }

func sList(s js) js { return js{"type": []string{"array", "null"}, "items": s} }

func apiSchema() js {
	return sObject(js{
		"socket":       sText("the API's Unix socket (a named pipe on Windows)"),
		"socket_group": sText("the group that may use the socket"),
		"listen":       sText("host:port of the API over TCP"),
		"token_file":   sPath("the file of API tokens"),
		"tls": js{"anyOf": []js{
			sObject(js{"cert": sPath("PEM certificate"), "key": sPath("PEM key")}),
			{"const": "auto", "description": "a CA and certificate of steward's own, under data_dir/tls"},
		}},
		"rate_limit": sObject(js{
			"per_second": js{"type": []string{"number", "null"}, "exclusiveMinimum": 0},
			"burst":      sCount,
		}),
	})
}

// sLifecycle are the keys every kind of service takes.
func sLifecycle() js {
	return js{
		"kind":       sText("the kind of service (default: exec)"),
		"depends_on": sDependsOn(),
		"disabled":   sFlag,
		"restart": sObject(js{
			"policy":  sEnum(RestartAlways, RestartOnFailure, RestartNever),
			"backoff": sDuration, "max_backoff": sDuration, "max_restarts": sCount, "window": sDuration, "stable": sDuration,
		}),
		"logs": sObject(js{
			"max_size": sSize, "keep": sCount, "every": sSpan, "max_age": sSpan, "max_total": sSize,
			"compress": sEnum("gzip", "zstd", "none"),
		}),
		"slo":    sText("an availability objective: 99.9%"),
		"tenant": sTenant,
	}
}

func sDependsOn() js {
	cond := sEnum(string(ConditionStarted), string(ConditionReady), string(ConditionHealthy), string(ConditionCompleted))
	return js{"anyOf": []js{
		{"type": "array", "items": sWord},
		sMap(js{"anyOf": []js{cond, sObject(js{"condition": cond, "restart": sFlag})}}),
	}, "description": "services started first: a list of names, or names mapped to a condition"}
}

// serviceSchema is an exec service, or a service of one of reg's kinds.
func serviceSchema(reg Registry) js {
	exec := sLifecycle()
	exec["kind"] = sEnum(DefaultKind)
	maps.Copy(exec, js{
		"command":     sCommand,
		"env":         sEnv,
		"env_file":    sPath("a file of VAR=value lines"),
		"inherit_env": js{"anyOf": []js{sFlag, {"type": "array", "items": sWord}}},
		"working_dir": sPath("the working directory"),
		"user":        sText("the user to run as"),
		"group":       sText("the group to run as"),
		"ready": sObject(js{
			"after": sDuration, "tcp": sText("host:port"), "http": sText("a URL"), "exec": sCommand,
			"log": sText("a regular expression"), "notify": sFlag, "watchdog": sDuration, "timeout": sDuration,
		}),
		"stop": sObject(js{
			"signal":  js{"anyOf": []js{{"type": "string", "pattern": "^(" + caseless("sig") + ")?(" + caseless("term", "int", "hup", "quit", "kill", "usr1", "usr2") + ")$"}, {"type": "null"}}},
			"timeout": sDuration,
		}),
		"health": sObject(js{
			"http": sText("a URL"), "tcp": sText("host:port"), "exec": sCommand,
			"interval": sDuration, "timeout": sDuration, "retries": sCount, "start_period": sDuration,
			"on_unhealthy": sEnum(ActionRestart, ActionAlert),
		}),
		"limits": sObject(js{
			"memory": sSize, "cpu": sText("a share of one CPU: 50%, 1.5"), "tasks": sCount,
			"enforce": sEnum(EnforceSample, EnforceKernel), "for": sDuration,
			"action": sEnum(ActionRestart, ActionStop, ActionAlert),
		}),
		"on_exit":   sEnum(OnExitRestart, OnExitIgnore, OnExitStopAll, OnExitExit),
		"exit_code": js{"type": []string{"integer", "null"}, "minimum": 0, "maximum": 255},
		"registry": sObject(js{
			"name": sText("the name it is registered under (default: the service's)"), "address": sText("the address clients use"),
			"port": js{"type": []string{"integer", "null"}, "minimum": 1, "maximum": 65535},
			"tags": sWords, "meta": sEnv,
		}),
	})
	execSchema := sObject(exec)
	execSchema["required"] = []string{"command"}
	kinds := []js{execSchema}
	for _, name := range slices.Sorted(maps.Keys(reg.Kinds)) {
		props := sLifecycle()
		props["kind"] = js{"const": name}
		for _, k := range reg.Kinds[name].Keys {
			props[k] = sAny
		}
		s := sObject(props)
		s["required"] = []string{"kind"}
		kinds = append(kinds, s)
	}
	return js{"anyOf": kinds}
}

func checkSchema() js {
	return sObject(js{
		"http": sText("a URL"), "tcp": sText("host:port"), "exec": sCommand, "file": sPath("a file"),
		"process": sText("a process name"), "os_service": sText("an OS service's name"),
		"max_age": sDuration, "min_size": sSize, "max_size": sSize,
		"interval": sDuration, "timeout": sDuration, "for": sDuration,
		"severity": sEnum("info", "warning", "critical"),
		"tenant":   sTenant,
	})
}

func alertsSchema() js {
	labels := js{}
	for _, l := range matchLabels {
		labels[l] = sText("a glob pattern")
	}
	return sObject(js{
		"repeat": sDuration, "flap_window": sDuration,
		"routes": sList(sObject(js{
			"name": sText("the route's name"), "match": sObject(labels),
			"to":         js{"type": "array", "items": sWord, "description": "notifier names"},
			"group_wait": sDuration, "repeat": sDuration, "continue": sFlag,
		})),
	})
}

func metricsSchema() js {
	return sObject(js{
		"every": sDuration, "keep_raw": sDuration, "keep_1m": sDuration, "keep_1h": sDuration,
		"collectors": sMap(sObject(js{"command": sCommand, "every": sDuration, "timeout": sDuration})),
	})
}

// notifierSchema is one type of notifier of reg, its settings checked by
// its decoder.
func notifierSchema(reg Registry) js {
	props := js{}
	for t := range reg.Notifiers {
		props[t] = sAny
	}
	return js{"type": "object", "properties": props, "additionalProperties": false, "minProperties": 1, "maxProperties": 1}
}

func busSchema() js {
	return sObject(js{
		"listen":    sText("host:port of the embedded NATS server"),
		"jetstream": sObject(js{"max_memory": sSize, "max_store": sSize}),
		"events":    sObject(js{"max_age": sDuration}),
		"streams": sMap(sObject(js{
			"subjects": sWords, "max_age": sDuration, "max_bytes": sSize, "replicas": sCount,
			"dead_letter": sObject(js{"max_deliver": sCount}),
		})),
		"transforms": sList(sObject(js{"from": sText("a subject"), "to": sText("a subject"), "template": sText("a template")})),
		"files":      sList(sObject(js{"dir": sPath("a directory"), "subject": sText("a subject"), "settle": sDuration})),
		"sinks":      sList(sObject(js{"subject": sText("a subject"), "dir": sPath("a directory")})),
		"url":        sText("an external NATS server's URL"),
		"user":       sText("its user"), "password": sText("its password"),
		"creds": sPath("a NATS credentials file"), "nkey": sPath("an NKey seed file"), "ca": sPath("a PEM CA file"),
		"service_credentials": sObject(js{
			"user": sText("the services' user"), "password": sText("its password"),
			"creds": sPath("a NATS credentials file"), "nkey": sPath("an NKey seed file"),
		}),
		"cluster": sObject(js{
			"name": sText("the cluster's name"), "listen": sText("host:port of the routes (off loopback with tls)"),
			"routes": sWords,
			"tls":    sObject(js{"cert": sPath("this node's PEM certificate"), "key": sPath("its PEM key"), "ca": sPath("the PEM CA of every node's certificate")}),
		}),
		"leafnodes": sObject(js{
			"listen": sText("host:port agents join as leaf nodes (off loopback with tls)"), "remotes": sWords,
			"tls": sObject(js{"cert": sPath("this node's PEM certificate"), "key": sPath("its PEM key"), "ca": sPath("the PEM CA of every node's certificate")}),
		}),
		"fleet_secret_file": sPath("the file of the secret the fleet's nodes share"),
	})
}

// sAction are the keys of a job's or a step's command and its settings.
func sAction() js {
	return js{
		"command": sCommand, "env": sEnv, "working_dir": sPath("the working directory"),
		"user": sText("the user to run as"), "group": sText("the group to run as"),
		"http": sObject(js{
			"url": sText("the URL"), "method": sEnum("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"),
			"expect": sCount, "timeout": sDuration,
		}),
		"service": sObject(js{"start": sText("a service"), "stop": sText("a service"), "restart": sText("a service")}),
		"timeout": sDuration,
		"retries": sObject(js{"max": sCount, "backoff": sDuration}),
		"publish": sObject(js{"subject": sText("a bus subject"), "data": sText("the message")}),
	}
}

// sJobWorkbook is a job's workbook action.
func sJobWorkbook() js {
	return sObject(js{
		"service": sText("a service of kind workbook"), "template": sText("a template file under its dir"),
		"writes":  sList(sObject(js{"sheet": sText("the sheet"), "cell": sText("the top left cell: A1"), "command": sCommand})),
		"save_as": sText("the file saved, under its dir"),
	})
}

func jobSchema() js {
	props := sAction()
	maps.Copy(props, js{
		"schedule": sText("a cron expression or @every 10m"), "timezone": sText("an IANA time zone"),
		"jitter":      sDuration,
		"concurrency": sEnum(ConcurrencyAllow, ConcurrencyForbid, ConcurrencyReplace),
		"missed":      sEnum(MissedSkip, MissedOnce, MissedAll),
		"deadline":    sDuration, "dead_man": sDuration, "tenant": sTenant,
		"backup": sObject(js{
			"paths": sWords, "include": sWords, "exclude": sWords, "to": sPath("the backup directory"),
			"format": sEnum(FormatTarZstd, FormatTarGzip, FormatZip),
			"keep": sObject(js{
				"last": sCount, "hourly": sCount, "daily": sCount, "weekly": sCount, "monthly": sCount, "yearly": sCount,
				"within": sDuration,
			}),
			"encrypt": sObject(js{"recipients": sWords}),
		}),
		"report": sObject(js{
			"since": sText("a span: 7d"), "services": sWords, "format": sEnum(steward.ReportHTML, steward.ReportXLSX, steward.ReportCSV, steward.ReportJSON),
			"out": sPath("the report file"), "notify": sWords,
		}),
		"workbook": sJobWorkbook(),
	})
	return sObject(props)
}

func workflowSchema() js {
	trigger := sObject(js{
		"schedule": sText("a cron expression"), "timezone": sText("an IANA time zone"), "subject": sText("a bus subject"),
		"file": sObject(js{"glob": sPath("a glob"), "settle": sDuration}),
		"event": sObject(js{
			"alert": sEnum("*", "info", "warning", "critical"), "service": sText("a service, or *"),
			"state": sEnum(EventStates...),
		}),
	})
	step := sAction()
	maps.Copy(step, js{
		"needs": sWords, "if": sText("a condition"),
		"outputs": sEnum(OutputsJSON, OutputsLines), "rerun": sEnum(RerunAlways, RerunNever),
	})
	return sObject(js{
		"on":          js{"anyOf": []js{trigger, {"type": "array", "items": trigger}}},
		"steps":       sMap(sObject(step)),
		"timeout":     sDuration,
		"concurrency": sEnum(ConcurrencyAllow, ConcurrencyForbid, ConcurrencyReplace),
		"tenant":      sTenant,
	})
}
