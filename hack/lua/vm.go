// Package main is a small Lua 5.1 harness that runs modelship's Argo CD health and action scripts
// the way Argo CD does (util/lua in argo-cd): gopher-lua with SkipOpenLibs, then only package,
// base, table and a "safe" os opened; the object as the global `obj`; a 1-second timeout; the
// return value checked and converted to JSON as Argo CD converts it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// Timeout is Argo CD's limit for one script run.
const Timeout = time.Second

// ValidHealth are the statuses Argo CD accepts from a health script; anything else becomes Unknown.
var ValidHealth = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

// Health is what a health script returns.
type Health struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// Action is one entry of a discovery script's result.
type Action struct {
	Name        string `json:"name"`
	Disabled    bool   `json:"disabled"`
	IconClass   string `json:"iconClass,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// VM runs scripts; Now is os.time()'s clock (tests pin it to check request ids).
type VM struct {
	Now func() time.Time
}

// run mirrors argo-cd util/lua runLua: sandboxed libraries, obj as a global, a timeout.
func (vm VM) run(obj map[string]any, script string) (lua.LValue, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	now := vm.Now
	if now == nil {
		now = time.Now
	}
	safeOs := func(l *lua.LState) int {
		mod := l.SetFuncs(l.NewTable(), map[string]lua.LGFunction{
			// Argo CD's safe os has time and date; our scripts use only time().
			"time": func(l *lua.LState) int {
				l.Push(lua.LNumber(now().Unix()))
				return 1
			},
		})
		l.Push(mod)
		return 1
	}
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, func(l *lua.LState) int {
			safeOs(l)
			l.SetGlobal(lua.OsLibName, l.Get(-1))
			return 1
		}},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.fn), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, fmt.Errorf("open %s: %w", lib.name, err)
		}
	}
	l.PreloadModule(lua.OsLibName, safeOs)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return nil, err
	}
	return l.Get(-1), nil
}

// Health runs a health script and validates its return like Argo CD (but strictly: an invalid
// status is an error here, where Argo CD would show Unknown).
func (vm VM) Health(obj map[string]any, script string) (Health, error) {
	ret, err := vm.run(obj, script)
	if err != nil {
		return Health{}, err
	}
	if ret.Type() != lua.LTTable {
		return Health{}, fmt.Errorf("health script returned %s, want a table", ret.Type())
	}
	var h Health
	if err := remarshal(fromLua(ret), &h); err != nil {
		return Health{}, fmt.Errorf("health script result: %w", err)
	}
	if !ValidHealth[h.Status] {
		return h, fmt.Errorf("health script returned invalid status %q (Argo CD shows Unknown)", h.Status)
	}
	return h, nil
}

// Action runs a resource action script; it must return the (changed) object.
func (vm VM) Action(obj map[string]any, script string) (map[string]any, error) {
	ret, err := vm.run(obj, script)
	if err != nil {
		return nil, err
	}
	if ret.Type() != lua.LTTable {
		return nil, fmt.Errorf("action script returned %s, want the object (a table)", ret.Type())
	}
	out, ok := cleanReturned(fromLua(ret), obj).(map[string]any)
	if !ok {
		return nil, errors.New("action script returned a list, want the object")
	}
	if out["apiVersion"] != obj["apiVersion"] || out["kind"] != obj["kind"] {
		return nil, errors.New("action script changed apiVersion or kind")
	}
	return out, nil
}

// Discovery runs a discovery script; it returns a table of action name -> {disabled, ...}.
func (vm VM) Discovery(obj map[string]any, script string) ([]Action, error) {
	ret, err := vm.run(obj, script)
	if err != nil {
		return nil, err
	}
	tbl, ok := ret.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("discovery script returned %s, want a table", ret.Type())
	}
	var actions []Action
	var ferr error
	tbl.ForEach(func(k, v lua.LValue) {
		name, ok := k.(lua.LString)
		if !ok {
			ferr = fmt.Errorf("discovery: key %v is not an action name", k)
			return
		}
		a := Action{Name: string(name)}
		if v.Type() != lua.LTTable {
			ferr = fmt.Errorf("discovery: action %s is %s, want a table", name, v.Type())
			return
		}
		if err := remarshal(fromLua(v), &a); err != nil {
			ferr = fmt.Errorf("discovery: action %s: %w", name, err)
			return
		}
		a.Name = string(name)
		actions = append(actions, a)
	})
	sort.Slice(actions, func(i, j int) bool { return actions[i].Name < actions[j].Name })
	return actions, ferr
}

// toLua is argo-cd's decodeValue: maps and lists become tables, numbers Lua numbers.
func toLua(l *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case string:
		return lua.LString(x)
	case float64:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case int:
		return lua.LNumber(x)
	case json.Number:
		f, _ := x.Float64()
		return lua.LNumber(f)
	case map[string]any:
		t := l.NewTable()
		for k, e := range x {
			t.RawSetString(k, toLua(l, e))
		}
		return t
	case []any:
		t := l.NewTable()
		for _, e := range x {
			t.Append(toLua(l, e))
		}
		return t
	default:
		return lua.LString(fmt.Sprint(x))
	}
}

// fromLua converts like gopher-json's Encode, which Argo CD uses: a table whose first key is a
// number is a list, an empty table is an empty list ([]), any other table an object.
func fromLua(v lua.LValue) any {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		return bool(x)
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return float64(x)
	case *lua.LTable:
		k, _ := x.Next(lua.LNil)
		switch k.Type() {
		case lua.LTNil:
			return []any{}
		case lua.LTNumber:
			arr := []any{}
			for i := 1; i <= x.MaxN(); i++ {
				arr = append(arr, fromLua(x.RawGetInt(i)))
			}
			return arr
		default:
			m := map[string]any{}
			x.ForEach(func(k, e lua.LValue) { m[k.String()] = fromLua(e) })
			return m
		}
	default:
		return v.String()
	}
}

// cleanReturned mirrors argo-cd's cleanReturnedObj: an empty list where the input had an object
// (an emptied annotations table, say) becomes an empty object again.
func cleanReturned(out, in any) any {
	switch o := out.(type) {
	case map[string]any:
		im, _ := in.(map[string]any)
		for k, v := range o {
			o[k] = cleanReturned(v, im[k])
		}
		return o
	case []any:
		if len(o) == 0 {
			if _, wasMap := in.(map[string]any); wasMap {
				return map[string]any{}
			}
		}
		il, _ := in.([]any)
		for i, v := range o {
			var iv any
			if i < len(il) {
				iv = il[i]
			}
			o[i] = cleanReturned(v, iv)
		}
		return o
	default:
		return out
	}
}

func remarshal(v any, into any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}

// LoadObject reads a fixture (YAML or JSON) as Argo CD sees it: JSON numbers, string keys.
func LoadObject(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".json" {
		if b, err = yaml.YAMLToJSON(b); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if obj == nil {
		return nil, fmt.Errorf("%s: not an object", path)
	}
	return obj, nil
}
