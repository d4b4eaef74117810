//go:build js && wasm

// Command wasm is the rules playground's engine compiled to WebAssembly
// (GOOS=js GOARCH=wasm): it defines the global JavaScript function
// autogroupEvaluate(rules, event), which returns the JSON of
// playground.Evaluate, and then waits for calls.
package main

import (
	"syscall/js"

	"github.com/cognito-autogroup/cognito-autogroup/playground"
)

func main() {
	js.Global().Set("autogroupEvaluate", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 2 || args[0].Type() != js.TypeString || args[1].Type() != js.TypeString {
			return `{"error":"autogroupEvaluate(rules, event) takes two strings"}`
		}
		return playground.EvaluateJSON(args[0].String(), args[1].String())
	}))
	select {}
}
