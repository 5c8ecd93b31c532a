# The Euclidean distance between each two of the vectors that cnn-save
# writes as text (one per line), named by the words of the variable names;
# "same" under face-api's threshold of 0.6 for face_recognition.
NF {
	n++
	for (i = 1; i <= NF; i++)
		v[n, i] = $i
	dims = NF
}
END {
	split(names, name, " ")
	for (a = 1; a <= n; a++)
		for (b = a + 1; b <= n; b++) {
			s = 0
			for (i = 1; i <= dims; i++)
				s += (v[a, i] - v[b, i]) ^ 2
			printf "%-40s %-40s %.4f %s\n", name[a], name[b], sqrt(s),
			       sqrt(s) < 0.6 ? "same" : "different"
		}
}
