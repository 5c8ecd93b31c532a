load helper

# The course notes' classifier at 28 x 28 (a 5x5 convolution, 2x2 pooling,
# FC 400, FC 400, FC 10, softmax: nothing padded), trained a little.
setup() {
	TMP="$BATS_TEST_TMPDIR"
	printf '[net]\nbatch=32\nchannels=1\nheight=28\nwidth=28\nlearning_rate=0.01\n' > "$TMP/notes.cfg"
	printf '[convolutional]\nfilters=16\nsize=5\nactivation=relu\n[maxpool]\nsize=2\nstride=2\n' >> "$TMP/notes.cfg"
	printf '[connected]\noutput=400\nactivation=relu\n[connected]\noutput=400\nactivation=relu\n' >> "$TMP/notes.cfg"
	printf '[connected]\noutput=10\nactivation=linear\n[softmax]\n' >> "$TMP/notes.cfg"
	cnn-load "$FASHION/t10k-images-idx3-ubyte.gz" "$FASHION/t10k-labels-idx1-ubyte.gz" | cnn-head -n 500 > "$TMP/d.cnn"
	cnn-train -m "$TMP/notes.cfg" -o "$TMP/c.cnnm" -e 1 "$TMP/d.cnn" > /dev/null
}

@test "at the same size the fully convolutional model gives the classifier's probabilities" {
	cnn-fcn -m "$TMP/c.cnnm" -o "$TMP/f.cnnm"
	cnn-summary "$TMP/f.cnnm" | grep -q 'convolutional  *400x1x1  *922,000 '
	cnn-head -n 5 "$TMP/d.cnn" | cnn-predict -m "$TMP/c.cnnm" | cnn-save -f probabilities -o - > "$TMP/a.txt"
	cnn-head -n 5 "$TMP/d.cnn" | cnn-predict -m "$TMP/f.cnnm" -f -1 | cnn-save -f features -o - > "$TMP/b.txt"
	cmp "$TMP/a.txt" "$TMP/b.txt"
}

# At 36 x 36 a 5 x 5 map of windows 2 pixels apart: the centre one, at
# (4, 4), is the classifier on the centre 28 x 28 crop.
@test "at 36x36: a 5x5 map, its centre the classifier on the centre crop" {
	cnn-fcn -m "$TMP/c.cnnm" -s 36x36 -o "$TMP/f.cnnm"
	cnn-summary "$TMP/f.cnnm" | grep -q 'softmax  *10x5x5 '
	cnn-head -n 3 "$TMP/d.cnn" | cnn-augment --resize 36x36 > "$TMP/big.cnn"
	cnn-augment --crop 28x28,center "$TMP/big.cnn" | cnn-predict -m "$TMP/c.cnnm" |
		cnn-save -f probabilities -o - | grep -v '^$' > "$TMP/crop.txt"
	cnn-predict -m "$TMP/f.cnnm" -f -1 "$TMP/big.cnn" | cnn-save -f features -o - |
		awk 'BEGIN { RS = "" } { split($0, r, "\n"); split(r[3], v, " "); printf "%s%s", NR % 10 == 1 ? "" : " ", v[3]; if (NR % 10 == 0) print "" }' > "$TMP/map.txt"
	cat "$TMP/map.txt"
	cmp "$TMP/crop.txt" "$TMP/map.txt"
}

@test "cnn-fcn: a network without [connected], a window larger than the input, MODEL as OUTPUT: one line" {
	printf '[net]\nchannels=1\nheight=28\nwidth=28\n[convolutional]\nfilters=10\nsize=28\n[softmax]\n' > "$TMP/conv.cfg"
	cnn-train -m "$TMP/conv.cfg" -o "$TMP/conv.cnnm" -e 1 "$TMP/d.cnn" > /dev/null
	run cnn-fcn -m "$TMP/conv.cnnm" -o "$TMP/x.cnnm"
	assert_error cnn-fcn 'conv.cnnm: the network has no \[connected\] layer: it is fully convolutional already'
	run cnn-fcn -m "$TMP/c.cnnm" -s 20x20 -o "$TMP/small.cnnm"
	assert_error cnn-fcn 'c.cnnm: .*\[convolutional\]: input 16x8x8: kernel 12x12 .* is larger than the padded input 8x8'
	[ ! -e "$TMP/small.cnnm" ]
	run cnn-fcn -m "$TMP/c.cnnm" -o "$TMP/c.cnnm"
	[ "$status" -ne 0 ]
	cnn-summary "$TMP/c.cnnm" | grep -q 'connected'
	run cnn-fcn -m "$TMP/c.cnnm" -s 36 -o "$TMP/x.cnnm"
	[ "$status" -eq 2 ]
}

# cnn-detect --windows: every 28 x 28 window of 36 x 36 images 2 pixels
# apart, each through the classifier, gives the boxes and scores that one
# pass of it made fully convolutional gives; a background class never
# shows; boxes at scale 0.8 are in the image's pixels.
@test "cnn-detect --windows 2 and --windows conv find the same boxes; --background, --scales" {
	cnn-head -n 3 "$TMP/d.cnn" | cnn-augment --resize 36x36 > "$TMP/big.cnn"
	cnn-detect -m "$TMP/c.cnnm" --windows 2 --raw -s 0.3 "$TMP/big.cnn" | cnn-boxes --to csv > "$TMP/each.csv"
	cnn-detect -m "$TMP/c.cnnm" --windows conv --raw -s 0.3 "$TMP/big.cnn" | cnn-boxes --to csv > "$TMP/conv.csv"
	head -4 "$TMP/each.csv"
	[ "$(wc -l < "$TMP/each.csv")" -gt 10 ]
	cmp "$TMP/each.csv" "$TMP/conv.csv"
	awk -F, 'NR > 1 && !($4 - $2 == 28 && $5 - $3 == 28 && $2 % 2 == 0 && $4 <= 36) { exit 1 }' "$TMP/each.csv"
	top=$(awk -F, 'NR == 2 { print $7 }' "$TMP/each.csv")
	cnn-detect -m "$TMP/c.cnnm" --windows conv --raw -s 0.3 --background "$top" "$TMP/big.cnn" |
		cnn-boxes --to csv | awk -F, -v k="$top" 'NR > 1 && $7 == k { exit 1 }'
	cnn-detect -m "$TMP/c.cnnm" --windows 2 --scales 1,0.8 -s 0.3 "$TMP/big.cnn" | cnn-boxes --to csv |
		awk -F, 'NR > 1 && !($4 <= 36.01 && $5 <= 36.01 && ($4 - $2 == 28 || ($4 - $2 > 34.9 && $4 - $2 < 35.1))) { exit 1 }'
	run cnn-detect -m "$TMP/c.cnnm" --windows 0 "$TMP/big.cnn"
	[ "$status" -eq 2 ]
	run cnn-detect -m "$TMP/c.cnnm" "$TMP/big.cnn"
	assert_error cnn-detect 'c.cnnm: the network has no detection layer .*a classifier takes --windows'
}
