package program

import (
	"strings"
	"testing"
)

func TestStringRedactsSecrets(t *testing.T) {
	p := validProgram()
	p.Nodes[0].Source.Options = Options{"password": "hunter2", "user": "bob"}
	p.Nodes[0].Source.Secret = []string{"password"}
	p.Nodes[0].Source.Format = &FormatConfig{Name: "f", Options: Options{"password": "fmt-secret"}}
	text := p.String()
	if strings.Contains(text, "hunter2") || !strings.Contains(text, "password=<redacted>, user=bob") {
		t.Errorf("plan text does not redact the secret:\n%s", text)
	}
	data, err := p.Redacted().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"hunter2", "fmt-secret"} {
		if strings.Contains(string(data), s) {
			t.Errorf("Redacted() JSON holds secret %q:\n%s", s, data)
		}
	}
	if !strings.Contains(string(data), `"user": "bob"`) {
		t.Errorf("Redacted() dropped a non-secret option:\n%s", data)
	}
	// The program itself keeps the value a worker needs.
	if p.Nodes[0].Source.Options["password"] != "hunter2" || p.Nodes[0].Source.Format.Options["password"] != "fmt-secret" {
		t.Errorf("Redacted modified the program: %v", p.Nodes[0].Source)
	}
}

func TestExpandEnv(t *testing.T) {
	env := map[string]string{"PW": "hunter2", "HOST": "kafka"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tab := &Table{Name: "in", Options: Options{"password": "{{PW}}", "servers": "{{ HOST }}:9092,{{HOST}}:9093", "plain": "x"},
		Format: &FormatConfig{Name: "f", Options: Options{"key": "k-{{PW}}"}}}
	got, err := ExpandEnv(tab, lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := Options{"password": "hunter2", "servers": "kafka:9092,kafka:9093", "plain": "x"}
	for k, v := range want {
		if got.Options[k] != v {
			t.Errorf("option %s = %q, want %q", k, got.Options[k], v)
		}
	}
	if got.Format.Options["key"] != "k-hunter2" {
		t.Errorf("format option key = %q", got.Format.Options["key"])
	}
	if tab.Options["password"] != "{{PW}}" || tab.Format.Options["key"] != "k-{{PW}}" {
		t.Errorf("ExpandEnv modified its argument: %v %v", tab.Options, tab.Format.Options)
	}
	plain := &Table{Name: "p", Options: Options{"a": "b"}}
	if same, err := ExpandEnv(plain, lookup); err != nil || same != plain {
		t.Errorf("a table without templates: %v, %v", same, err)
	}
	for _, c := range []struct{ value, want string }{
		{"{{MISSING}}", "table 'in': option 'password': environment variable MISSING is not set"},
		{"{{PW", "option 'password': unterminated '{{'"},
		{"{{ }}", "option 'password': empty '{{}}'"},
	} {
		bad := &Table{Name: "in", Options: Options{"password": c.value, "other": "{{PW}}"}}
		_, err := ExpandEnv(bad, lookup)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.value, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: error shows a value: %v", c.value, err)
		}
	}
}
