package jsonata

import "reflect"

func reflectPointer(m map[string]any) uintptr {
	return reflect.ValueOf(m).Pointer()
}
