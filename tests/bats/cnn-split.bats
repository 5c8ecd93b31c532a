load helper

@test "a fraction goes to validation, spread evenly" {
	cnn-load $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 100 > "$TMP/l.cnn"
	run bash -c "cnn-split -f 0.1 -v '$TMP/val.cnn' '$TMP/l.cnn' | cnn-info"
	[ "${lines[0]}" = "90 records" ]
	run cnn-info "$TMP/val.cnn"
	[ "${lines[0]}" = "10 records" ]
}

@test "the first N records go to validation" {
	cnn-load $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 10 > "$TMP/l.cnn"
	cnn-split -n 3 -v "$TMP/val.cnn" -o "$TMP/train.cnn" "$TMP/l.cnn"
	[ "$(cnn-save -f label -o - < "$TMP/val.cnn" | grep -v '^$' | tr '\n' ' ')" = "9 2 1 " ]
	[ "$(cnn-info "$TMP/train.cnn" | head -1)" = "7 records" ]
}

@test "usage errors" {
	run cnn-split -f 0.1
	[ "$status" -eq 2 ]
	run cnn-split -v x -f 2
	[ "$status" -eq 2 ]
	run cnn-split -v x -f 0.1 -n 3
	[ "$status" -eq 2 ]
}

@test "validation and output on the same file is refused" {
	run cnn-split -f 0.5 -v -
	[ "$status" -eq 2 ]
}

@test "an error leaves both outputs as they were; standard output keeps what it got" {
	cnn-load $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 10 > "$TMP/l.cnn"
	head -c 100 /dev/urandom > "$TMP/junk"
	echo old > "$TMP/val.cnn"
	run bash -c "cat '$TMP/l.cnn' '$TMP/junk' | cnn-split -f 0.5 -v '$TMP/val.cnn' -o '$TMP/train.cnn'"
	assert_error cnn-split 'record 11: not a tensor stream'
	[ "$(cat "$TMP/val.cnn")" = old ]
	[ ! -e "$TMP/train.cnn" ]
	run bash -c "cat '$TMP/l.cnn' '$TMP/junk' | cnn-split -f 0.5 -v '$TMP/val.cnn' > '$TMP/train.cnn'"
	assert_error cnn-split 'record 11: not a tensor stream'
	[ "$(cnn-info "$TMP/train.cnn" | head -1)" = "5 records" ]
}
