load helper

# cnn-train takes the truth its loss reads from each record, variable-length
# boxes too.  No shipped loss reads boxes yet; tests/cnn-train-testloss is
# cnn-train itself with the tests' own [boxes_test] (tests/unit/testloss.c).

setup_file() {
	export PATH="${CNN_BIN:-$BATS_TEST_DIRNAME/../../build}:$PATH"
	export TRAIN="$CNN_BIN/tests/cnn-train-testloss" BOXES="$BATS_FILE_TMPDIR/boxes.cnn"
	export CFG="$BATS_FILE_TMPDIR/boxes.cfg" PLAIN="$BATS_FILE_TMPDIR/plain.cnn"
	printf '[net]\nbatch=32\nchannels=1\nheight=28\nwidth=28\nlearning_rate=0.001\n[connected]\noutput=5\nactivation=linear\n[boxes_test]\n' > "$CFG"
	# 1,500 images (1.2 MB of pixels: more than --memory 1 keeps), record k
	# with k % 4 boxes, so that every fourth has none.
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz |
		cnn-head -n 1500 > "$PLAIN"
	awk 'BEGIN { for (k = 1; k <= 1500; k++) for (b = 0; b < k % 4; b++)
		printf "%d,%d,%d,%d,%d,1,%d\n", k, b, 2 * b, 10 + b, 12 + 2 * b, b }' \
		> "$BATS_FILE_TMPDIR/boxes.csv"
	cnn-boxes --from csv -f boxes_true -t "$BATS_FILE_TMPDIR/boxes.csv" "$PLAIN" > "$BOXES"
}

@test "the data: boxes_true of 0 to 3 boxes, an empty tensor where there are none" {
	run bash -c "cnn-head -n 4 '$BOXES' | cnn-info -r"
	[[ "${lines[2]}" == "3: "*"boxes_true=f32 3x6" ]]
	[[ "${lines[3]}" == "4: "*"boxes_true=f32 0x6" ]]
}

@test "a loss on boxes trains in one pass, and from the cache in memory or spilt" {
	run "$TRAIN" -m "$CFG" -o "$TMP/pass.cnnm" --one-pass -S 2 "$BOXES"
	[ "$status" -eq 0 ]
	# No accuracy: the loss reads no class labels.
	[[ "$output" =~ ^epoch=1\ step=47\ loss=[0-9.]+\ lr= ]]
	"$TRAIN" -m "$CFG" -o "$TMP/mem.cnnm" -e 2 -S 2 "$BOXES" > "$TMP/mem.log"
	"$TRAIN" -m "$CFG" -o "$TMP/spilt.cnnm" -e 2 -S 2 --memory 1 "$BOXES" > "$TMP/spilt.log"
	cmp "$TMP/mem.cnnm" "$TMP/spilt.cnnm"
	[ "$(sed 's/ seconds=.*//' "$TMP/mem.log")" = "$(sed 's/ seconds=.*//' "$TMP/spilt.log")" ]
	run sed -n 's/^epoch=\([12]\) step=[0-9]* loss=\([0-9.]*\).*/\1 \2/p' "$TMP/mem.log"
	[ "${#lines[@]}" -eq 2 ]
	first=${lines[0]#1 } last=${lines[1]#2 }
	[ "$(echo "$last < $first" | bc)" -eq 1 ]
}

@test "a record without the field the loss reads: one line naming the record and the field" {
	cnn-head -n 40 "$BOXES" > "$TMP/a.cnn"
	cnn-head -n 3 "$PLAIN" > "$TMP/b.cnn"
	run "$TRAIN" -m "$CFG" -o "$TMP/m.cnnm" "$TMP/a.cnn" "$TMP/b.cnn"
	assert_error cnn-train 'b\.cnn record 1: no tensor "boxes_true" \(the loss of layer 1 \[boxes_test\] reads it\)$'
	[ ! -e "$TMP/m.cnnm" ]
	run "$TRAIN" -m "$CFG" -o "$TMP/m.cnnm" --one-pass "$TMP/a.cnn" "$TMP/b.cnn"
	assert_error cnn-train 'b\.cnn record 1: no tensor "boxes_true"'
}

@test "mixup and --pk need the truth they work on" {
	run "$TRAIN" -m "$CFG" -o "$TMP/m.cnnm" --mixup 0.2 "$BOXES"
	assert_error cnn-train 'mixup blends class labels'
	run "$TRAIN" -m "$CFG" -o "$TMP/m.cnnm" --pk 4,8 "$BOXES"
	assert_error cnn-train 'no identity or class label'
}
