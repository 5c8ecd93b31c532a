load helper

LENET="$BATS_TEST_DIRNAME/../../examples/zoo/lenet5.cfg"
FASHIONCFG="$BATS_TEST_DIRNAME/../../examples/darknet/fashion.cfg"

# A LeNet-5 trained for one epoch on 300 Fashion-MNIST images, made once.
setup_file() {
	export PATH="${CNN_BIN:-$BATS_TEST_DIRNAME/../../build}:$PATH"
	D=/usr/share/datasets/fashion-mnist
	export SMALL="$BATS_FILE_TMPDIR/train.cnn" MODEL="$BATS_FILE_TMPDIR/lenet.cnnm"
	cnn-load $D/train-images-idx3-ubyte.gz $D/train-labels-idx1-ubyte.gz | cnn-head -n 300 > "$SMALL"
	cnn-train -m "$LENET" -o "$MODEL" -e 1 "$SMALL" > /dev/null
}

# The weights record (the second) of a model file.
weights_record() {
	cnn-head -s 1 -n 1 "$1"
}

@test "export then import gives the same tensors, and the same file again" {
	cnn-darknet export "$MODEL" -o "$TMP/a.weights" --cfg "$TMP/lenet.cfg"
	cmp "$TMP/lenet.cfg" "$LENET"
	# LeNet-5: 61,706 parameters after a 20-byte header
	[ "$(stat -c %s "$TMP/a.weights")" -eq $((20 + 4 * 61706)) ]
	cnn-darknet import "$TMP/lenet.cfg" "$TMP/a.weights" -o "$TMP/b.cnnm"
	cmp <(weights_record "$MODEL") <(weights_record "$TMP/b.cnnm")
	cnn-darknet export "$TMP/b.cnnm" -o - > "$TMP/b.weights"
	cmp "$TMP/a.weights" "$TMP/b.weights"
	# seen (images trained on) travels in the header
	run bash -c "cnn-info -r '$TMP/b.cnnm' | head -1"
	[[ "$output" =~ seen=i64\ scalar\(300\) ]]
}

@test "the header: version 0.2.0 and seen as 64 bits, little-endian" {
	cnn-darknet export "$MODEL" -o "$TMP/a.weights"
	run bash -c "head -c 20 '$TMP/a.weights' | od -An -tx1 | tr -s ' \n' ' '"
	[ "$output" = " 00 00 00 00 02 00 00 00 00 00 00 00 2c 01 00 00 00 00 00 00 " ]
}

@test "darknet's connected weights of a file marked transposed are read transposed" {
	printf '[net]\nchannels=1\nheight=1\nwidth=3\n\n[connected]\noutput=2\nactivation=linear\n' > "$TMP/fc.cfg"
	# major 0, minor 1001 (transposed), revision 0, seen as int32; biases
	# 0.5 0.25, then the 3x2 weights by input: 1 2 / 3 4 / 5 6
	printf '\0\0\0\0\351\3\0\0\0\0\0\0\7\0\0\0' > "$TMP/fc.weights"
	printf '\0\0\0\77\0\0\200\76\0\0\200\77\0\0\0\100\0\0\100\100\0\0\200\100\0\0\240\100\0\0\300\100' \
		>> "$TMP/fc.weights"
	cnn-darknet import "$TMP/fc.cfg" "$TMP/fc.weights" -o "$TMP/fc.cnnm"
	run bash -c "cnn-head -s 1 -n 1 '$TMP/fc.cnnm' | cnn-save -f 0.weight -o -"
	[ "$output" = "$(printf '1 3 5\n2 4 6')" ]
	run bash -c "cnn-info -r '$TMP/fc.cnnm' | head -1"
	[[ "$output" =~ seen=i64\ scalar\(7\) ]]
}

@test "a truncated .weights is one error line naming the layer" {
	cnn-darknet export "$MODEL" -o "$TMP/a.weights"
	head -c 100000 "$TMP/a.weights" > "$TMP/short.weights"
	run cnn-darknet import "$LENET" "$TMP/short.weights" -o "$TMP/c.cnnm"
	assert_error cnn-darknet 'short.weights: ends in layer 4 \[connected\] \(line 34\), after 22303 of the 48000 values of its weight'
	[ ! -e "$TMP/c.cnnm" ]
	head -c 15 "$TMP/a.weights" > "$TMP/short.weights"
	run cnn-darknet import "$LENET" "$TMP/short.weights" -o "$TMP/c.cnnm"
	assert_error cnn-darknet 'short.weights: 15 bytes, too short for a darknet .weights header'
}

@test "a .weights for another cfg is an error" {
	cnn-darknet export "$MODEL" -o "$TMP/a.weights"
	run cnn-darknet import "$FASHIONCFG" "$TMP/a.weights" -o "$TMP/c.cnnm"
	assert_error cnn-darknet 'a.weights: ends in layer [0-9]+ \[[a-z]+\] \(line [0-9]+\).*another cfg'
	# too long: LeNet-5 without its last connected layer
	sed '/output=84/,$d' "$LENET" | sed '$d' > "$TMP/short.cfg"
	run cnn-darknet import "$TMP/short.cfg" "$TMP/a.weights" -o "$TMP/c.cnnm"
	assert_error cnn-darknet 'a.weights: [0-9]+ bytes left after the last layer with weights, layer 4 \[connected\]'
}

@test "a [batchnorm] shift darknet cannot hold: refused, or dropped with --lossy" {
	printf '[net]\nbatch=32\nchannels=1\nheight=28\nwidth=28\nlearning_rate=0.05\n\n[convolutional]\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=relu\n\n[batchnorm]\n\n[connected]\noutput=10\nactivation=linear\n\n[softmax]\n' > "$TMP/bn.cfg"
	cnn-train -m "$TMP/bn.cfg" -o "$TMP/bn.cnnm" -e 1 "$SMALL" > /dev/null
	run cnn-darknet export "$TMP/bn.cnnm" -o "$TMP/bn.weights"
	assert_error cnn-darknet 'bn.cnnm:15: \[batchnorm\] \(layer 1\): its shift \(bias\) is not 0'
	[ ! -e "$TMP/bn.weights" ]
	cnn-darknet export --lossy "$TMP/bn.cnnm" -o "$TMP/bn.weights"
	cnn-darknet import "$TMP/bn.cfg" "$TMP/bn.weights" -o "$TMP/bn2.cnnm"
	run bash -c "cnn-head -s 1 -n 1 '$TMP/bn2.cnnm' | cnn-save -f 1.bias -o -"
	[ "$output" = "0 0 0 0" ]
}

@test "bad usage" {
	run cnn-darknet import "$LENET" x.weights
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" = "cnn-darknet: -o FILE is required" ]]
	run cnn-darknet convert x -o y
	[ "$status" -eq 2 ]
	run cnn-darknet import "$LENET" -o y
	[ "$status" -eq 2 ]
	run cnn-darknet export "$MODEL" "$MODEL" -o y
	[ "$status" -eq 2 ]
	run cnn-darknet import "$LENET" "$TMP/none.weights" -o "$TMP/c.cnnm"
	assert_error cnn-darknet 'none.weights: No such file or directory'
}

# Debian's darknet runs a model we trained and exported, and labels images
# as we do (examples/darknet does this on the whole test set).
@test "darknet loads our export and predicts our labels" {
	command -v darknet > /dev/null || skip "no darknet (Debian package darknet)"
	D=/usr/share/datasets/fashion-mnist
	mkdir -p "$TMP/img"
	cnn-head -n 256 "$SMALL" > "$TMP/part.cnn"
	cnn-save -o "$TMP/img/%03d.png" "$TMP/part.cnn"
	cnn-save -f label -o - "$TMP/part.cnn" | grep -v '^$' |
		awk '{ printf "img/%03d.png,%s\n", NR - 1, $1 }' > "$TMP/all.csv"
	cnn-load -c 3 --csv "$TMP/all.csv" > "$TMP/rgb.cnn"
	cnn-train -m "$FASHIONCFG" -o "$TMP/f.cnnm" -e 2 "$TMP/rgb.cnn" > /dev/null
	cnn-darknet export "$TMP/f.cnnm" -o "$TMP/f.weights"
	printf 'classes=10\nlabels=%s\n' "$BATS_TEST_DIRNAME/../../examples/darknet/fashion.names" > "$TMP/f.data"
	cut -d, -f1 "$TMP/all.csv" | (cd "$TMP" && darknet classifier predict f.data "$FASHIONCFG" f.weights 2> /dev/null) |
		sed -n 's/.*%: //p' > "$TMP/darknet.txt"
	cnn-predict -m "$TMP/f.cnnm" -t -n "$BATS_TEST_DIRNAME/../../examples/darknet/fashion.names" "$TMP/rgb.cnn" |
		cut -d' ' -f2 > "$TMP/ours.txt"
	[ "$(wc -l < "$TMP/ours.txt")" -eq 256 ]
	cmp "$TMP/darknet.txt" "$TMP/ours.txt"
}
