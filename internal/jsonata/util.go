package jsonata

import "strconv"

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

func itoa(i int) string { return strconv.Itoa(i) }

func atoiSigned(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
