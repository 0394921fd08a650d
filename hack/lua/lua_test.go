package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// argocdDir holds the scripts and fixtures (relative to this module: hack/lua).
var argocdDir = filepath.Join("..", "..", "charts", "modelship", "argocd")

var actionNames = []string{"promote", "promote-full", "abort", "retry", "pause", "resume"}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func load(t *testing.T, path string) map[string]any {
	t.Helper()
	obj, err := LoadObject(path)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func fixtures(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(argocdDir, "testdata", "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in %s: %v", argocdDir, err)
	}
	return paths
}

func TestHealthExpectations(t *testing.T) {
	var spec struct {
		Tests []struct {
			InputPath    string `json:"inputPath"`
			HealthStatus Health `json:"healthStatus"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal([]byte(read(t, filepath.Join(argocdDir, "health_test.yaml"))), &spec); err != nil {
		t.Fatal(err)
	}
	script := read(t, filepath.Join(argocdDir, "health.lua"))
	covered := map[string]bool{}
	for _, tc := range spec.Tests {
		t.Run(tc.InputPath, func(t *testing.T) {
			covered[filepath.Base(tc.InputPath)] = true
			got, err := VM{}.Health(load(t, filepath.Join(argocdDir, tc.InputPath)), script)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.HealthStatus {
				t.Errorf("got %+v, want %+v", got, tc.HealthStatus)
			}
		})
	}
	for _, f := range fixtures(t) {
		if !covered[filepath.Base(f)] {
			t.Errorf("fixture %s has no expectation in health_test.yaml", f)
		}
	}
}

// Every script on every fixture: no runtime error, a return Argo CD accepts. This reaches
// branches that only some fixtures take, under the same sandbox.
func TestEveryScriptOnEveryFixture(t *testing.T) {
	health := read(t, filepath.Join(argocdDir, "health.lua"))
	discovery := read(t, filepath.Join(argocdDir, "discovery.lua"))
	for _, f := range fixtures(t) {
		obj := load(t, f)
		if _, err := (VM{}).Health(obj, health); err != nil {
			t.Errorf("health on %s: %v", f, err)
		}
		acts, err := VM{}.Discovery(load(t, f), discovery)
		if err != nil {
			t.Errorf("discovery on %s: %v", f, err)
		}
		if len(acts) != len(actionNames) {
			t.Errorf("discovery on %s: %d actions, want %d", f, len(acts), len(actionNames))
		}
		for _, a := range actionNames {
			script := read(t, filepath.Join(argocdDir, "actions", a, "action.lua"))
			if _, err := (VM{}).Action(load(t, f), script); err != nil {
				t.Errorf("action %s on %s: %v", a, f, err)
			}
		}
	}
}

type actionSpec struct {
	DiscoveryTests []struct {
		InputPath string   `json:"inputPath"`
		Result    []Action `json:"result"`
	} `json:"discoveryTests"`
	ActionTests []struct {
		Action      string             `json:"action"`
		InputPath   string             `json:"inputPath"`
		Annotations map[string]*string `json:"annotations"`
	} `json:"actionTests"`
}

func loadActionSpec(t *testing.T) actionSpec {
	var spec actionSpec
	if err := yaml.Unmarshal([]byte(read(t, filepath.Join(argocdDir, "actions", "action_test.yaml"))), &spec); err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestDiscovery(t *testing.T) {
	script := read(t, filepath.Join(argocdDir, "discovery.lua"))
	for _, tc := range loadActionSpec(t).DiscoveryTests {
		t.Run(tc.InputPath, func(t *testing.T) {
			got, err := VM{}.Discovery(load(t, filepath.Join(argocdDir, "actions", tc.InputPath)), script)
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]Action{}
			for _, a := range got {
				byName[a.Name] = a
			}
			for _, want := range tc.Result {
				a, ok := byName[want.Name]
				if !ok {
					t.Errorf("action %s not offered", want.Name)
				} else if a.Disabled != want.Disabled {
					t.Errorf("action %s disabled=%v, want %v", want.Name, a.Disabled, want.Disabled)
				}
			}
		})
	}
}

var requestID = regexp.MustCompile(`^argocd-[0-9]+(-[0-9]+)?$`)

func TestActions(t *testing.T) {
	spec := loadActionSpec(t)
	tested := map[string]bool{}
	for _, tc := range spec.ActionTests {
		t.Run(tc.Action, func(t *testing.T) {
			tested[tc.Action] = true
			in := load(t, filepath.Join(argocdDir, "actions", tc.InputPath))
			before := load(t, filepath.Join(argocdDir, "actions", tc.InputPath))
			out, err := VM{}.Action(in, read(t, filepath.Join(argocdDir, "actions", tc.Action, "action.lua")))
			if err != nil {
				t.Fatal(err)
			}
			md, _ := out["metadata"].(map[string]any)
			ann, _ := md["annotations"].(map[string]any)
			for k, want := range tc.Annotations {
				got, present := ann[k]
				switch {
				case want == nil:
					if present {
						t.Errorf("annotation %s = %v, want it removed", k, got)
					}
				case *want == "<request-id>":
					s, _ := got.(string)
					if !requestID.MatchString(s) {
						t.Errorf("annotation %s = %v, want a request id argocd-<unix time>", k, got)
					}
				default:
					if got != *want {
						t.Errorf("annotation %s = %v, want %q", k, got, *want)
					}
				}
			}
			// Actions change annotations only: never spec (GitOps would see drift) nor status.
			for _, field := range []string{"spec", "status", "apiVersion", "kind"} {
				if !equalJSON(t, out[field], before[field]) {
					t.Errorf("action %s changed %s", tc.Action, field)
				}
			}
			bm, _ := before["metadata"].(map[string]any)
			for k, v := range bm {
				if k != "annotations" && !equalJSON(t, md[k], v) {
					t.Errorf("action %s changed metadata.%s", tc.Action, k)
				}
			}
		})
	}
	for _, a := range actionNames {
		if !tested[a] {
			t.Errorf("action %s has no test in action_test.yaml", a)
		}
	}
}

// A second click within the same second must still be a new request (the operator ignores an id
// it has handled), and ids come from os.time().
func TestRequestIDsAreFreshWithinOneSecond(t *testing.T) {
	vm := VM{Now: func() time.Time { return time.Unix(1767225600, 0) }}
	script := read(t, filepath.Join(argocdDir, "actions", "promote", "action.lua"))
	obj := load(t, filepath.Join(argocdDir, "testdata", "progressing.yaml"))
	seen := map[string]bool{}
	for i := range 3 {
		out, err := vm.Action(obj, script)
		if err != nil {
			t.Fatal(err)
		}
		id := out["metadata"].(map[string]any)["annotations"].(map[string]any)["modelship.dev/promote"].(string)
		if i == 0 && id != "argocd-1767225600" {
			t.Errorf("first id %q, want argocd-1767225600 (an integer, not 1.7672256e+09)", id)
		}
		if seen[id] {
			t.Errorf("click %d repeated id %q", i+1, id)
		}
		seen[id] = true
		obj = out
	}
}

// The harness must be as strict as Argo CD's sandbox, or the tests above prove little.
func TestSandboxLikeArgoCD(t *testing.T) {
	obj := map[string]any{"metadata": map[string]any{"name": "x"}}
	for name, script := range map[string]string{
		"string library": `return {status = string.format("%s", "Healthy")}`,
		"math library":   `return {status = "Healthy", message = tostring(math.floor(1.5))}`,
		"string methods": `local s = "Healthy"; return {status = s:sub(1, 7)}`,
		"io library":     `io.write("x"); return {status = "Healthy"}`,
		"os.execute":     `os.execute("true"); return {status = "Healthy"}`,
		"timeout":        `while true do end`,
		"invalid status": `return {status = "Fine"}`,
		"not a table":    `return "Healthy"`,
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			if _, err := (VM{}).Health(obj, script); err == nil {
				t.Errorf("script ran; Argo CD's sandbox would reject it")
			}
			if time.Since(start) > 5*Timeout {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}
	if h, err := (VM{}).Health(obj, `local t = {}; table.insert(t, "a"); return {status = "Healthy", message = t[1] .. os.time()}`); err != nil || h.Status != "Healthy" {
		t.Errorf("base, table and os.time must work: %v %v", h, err)
	}
}

// gopher-lua only fails on a missing library when the line runs: scan the scripts too.
func TestScriptsUseNoUnavailableLibrary(t *testing.T) {
	forbidden := regexp.MustCompile(`\b(string|math|io|debug|coroutine|json)\.|:\s*(sub|format|find|match|gsub|gmatch|len|lower|upper|rep|byte)\s*\(|\bos\.(execute|getenv|remove|rename|exit|tmpname|date|clock)\b|\b(require|load|loadstring|dofile|loadfile|setfenv|getfenv)\s*\(`)
	scripts := []string{filepath.Join(argocdDir, "health.lua"), filepath.Join(argocdDir, "discovery.lua")}
	for _, a := range actionNames {
		scripts = append(scripts, filepath.Join(argocdDir, "actions", a, "action.lua"))
	}
	for _, p := range scripts {
		for i, line := range strings.Split(read(t, p), "\n") {
			code := line
			if j := strings.Index(code, "--"); j >= 0 {
				code = code[:j]
			}
			if m := forbidden.FindString(code); m != "" {
				t.Errorf("%s:%d uses %q, which Argo CD's sandbox does not provide", p, i+1, m)
			}
		}
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := yaml.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := yaml.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}
