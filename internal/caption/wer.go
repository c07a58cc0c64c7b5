package caption

import "strings"

// WER is the word error rate of got against want: the fewest words substituted,
// inserted or deleted to turn one into the other, over the words of want
// (Levenshtein over words).
func WER(want, got []string) float64 {
	d := make([]int, len(got)+1)
	for j := range d {
		d[j] = j
	}
	for i := 1; i <= len(want); i++ {
		prev := d[0]
		d[0] = i
		for j := 1; j <= len(got); j++ {
			cur := d[j]
			cost := 1
			if want[i-1] == got[j-1] {
				cost = 0
			}
			d[j] = min(d[j]+1, d[j-1]+1, prev+cost)
			prev = cur
		}
	}
	if len(want) == 0 {
		return float64(len(got))
	}
	return float64(d[len(got)]) / float64(len(want))
}

// Words splits text into lower-case words without punctuation.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '\'')
	})
}
