# Detections of ours (the first file) against darknet's (the second), lines
# "image class score xmin ymin xmax ymax": each of ours is paired with the
# nearest unpaired one of darknet's of the same image and class; prints the
# counts, those left unpaired on each side, and the largest differences of
# the paired boxes' coordinates and scores.
NR == FNR { ours[++n] = $0; next }
{ theirs[++m] = $0 }
END {
	for (i = 1; i <= n; i++) {
		split(ours[i], a, " ")
		best = 0
		for (j = 1; j <= m; j++) {
			if (paired[j])
				continue
			split(theirs[j], b, " ")
			if (a[1] != b[1] || a[2] != b[2])
				continue
			d = 0
			for (k = 4; k <= 7; k++)
				if ((a[k] - b[k]) ^ 2 > d)
					d = (a[k] - b[k]) ^ 2
			if (!best || d < bestd) {
				best = j
				bestd = d
				bests = a[3] - b[3]
			}
		}
		if (!best)
			continue
		paired[best] = 1
		pairs++
		if (sqrt(bestd) > px)
			px = sqrt(bestd)
		if (bests < 0)
			bests = -bests
		if (bests > sc)
			sc = bests
	}
	printf "ours %d, darknet's %d, unpaired %d and %d, boxes within %.3g px, scores within %.3g\n",
	       n, m, n - pairs, m - pairs, px, sc
}
