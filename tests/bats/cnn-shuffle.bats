load helper

labels() {
	cnn-save -f label -o - | grep -v '^$' | tr '\n' ' '
}

@test "a seeded shuffle is a permutation and repeats" {
	cnn-load $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 500 > "$TMP/l.cnn"
	a=$(cnn-shuffle -S 7 "$TMP/l.cnn" | labels)
	b=$(cnn-shuffle -S 7 "$TMP/l.cnn" | labels)
	c=$(cnn-shuffle -S 8 "$TMP/l.cnn" | labels)
	orig=$(labels < "$TMP/l.cnn")
	[ "$a" = "$b" ]
	[ "$a" != "$c" ]
	[ "$a" != "$orig" ]
	[ "$(echo $a | tr ' ' '\n' | sort | md5sum)" = "$(echo $orig | tr ' ' '\n' | sort | md5sum)" ]
}

@test "past the memory limit it spills to files and stays a permutation" {
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 3000 > "$TMP/d.cnn"
	mkdir "$TMP/spill"
	run bash -c "TMPDIR='$TMP/spill' cnn-shuffle -S 1 -m 1 '$TMP/d.cnn' | cnn-info"
	[ "${lines[0]}" = "3000 records" ]
	# The spill files are gone afterwards.
	[ -z "$(ls -A "$TMP/spill")" ]
	run bash -c "cnn-shuffle -S 1 -m 1 '$TMP/d.cnn' | cnn-save -f label -o - | grep -v '^\$' | sort | uniq -c | md5sum"
	want=$(cnn-save -f label -o - < "$TMP/d.cnn" | grep -v '^$' | sort | uniq -c | md5sum)
	[ "$output" = "$want" ]
}

@test "bad arguments" {
	run cnn-shuffle -m 0
	[ "$status" -eq 2 ]
	run cnn-shuffle -S x
	[ "$status" -eq 2 ]
}

@test "a reader that goes away leaves no spill files behind" {
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-head -n 3000 > "$TMP/d.cnn"
	mkdir "$TMP/spill"
	run bash -c "TMPDIR='$TMP/spill' cnn-shuffle -S 1 -m 1 '$TMP/d.cnn' | head -c 10 | wc -c"
	[ "$output" = "10" ]
	[ -z "$(ls -A "$TMP/spill")" ]
}
