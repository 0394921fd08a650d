package main

import (
	"encoding/json"
	"fmt"
	"os"
)

const usage = `usage: go run . <health|action|discovery> <script.lua> <object.yaml|json>
Runs an Argo CD Lua script (health check, resource action or action discovery) on an object
the way Argo CD does, and prints the result as JSON. Exit 1 when the script fails or returns
something Argo CD would reject.`

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	kind, scriptPath, objPath := os.Args[1], os.Args[2], os.Args[3]
	script, err := os.ReadFile(scriptPath)
	if err != nil {
		fail(err)
	}
	obj, err := LoadObject(objPath)
	if err != nil {
		fail(err)
	}
	var out any
	vm := VM{}
	switch kind {
	case "health":
		out, err = vm.Health(obj, string(script))
	case "action":
		out, err = vm.Action(obj, string(script))
	case "discovery":
		out, err = vm.Discovery(obj, string(script))
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fail(fmt.Errorf("%s %s on %s: %w", kind, scriptPath, objPath, err))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
