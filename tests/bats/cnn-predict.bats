load helper

LENET="$BATS_TEST_DIRNAME/../../examples/zoo/lenet5.cfg"

setup_file() {
	export PATH="${CNN_BIN:-$BATS_TEST_DIRNAME/../../build}:$PATH"
	D=/usr/share/datasets/fashion-mnist
	export TEST="$BATS_FILE_TMPDIR/test.cnn" MODEL="$BATS_FILE_TMPDIR/m.cnnm"
	cnn-load $D/t10k-images-idx3-ubyte.gz $D/t10k-labels-idx1-ubyte.gz | cnn-head -n 300 > "$TEST"
	cnn-train -m "$LENET" -o "$MODEL" -e 2 "$TEST" > /dev/null
}

@test "predictions join each record" {
	run bash -c "cnn-predict -m '$MODEL' '$TEST' | cnn-head -n 1 | cnn-info -r"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^1:\ image=u8\ 1x28x28\ label=i32\ scalar\([0-9]\)\ probabilities=f32\ 10\ prediction=i32\ scalar\([0-9]\)$ ]]
}

@test "text output with names and top-k" {
	run bash -c "cnn-predict -m '$MODEL' -t -k 3 -n '$BATS_TEST_DIRNAME/../../examples/zoo/fashion-mnist.names' '$TEST' | head -2"
	[ "$status" -eq 0 ]
	pattern='^1 [A-Za-z/ -]+ [01]\.[0-9]+ [A-Za-z/ -]+ [01]\.[0-9]+'
	[[ "${lines[0]}" =~ $pattern ]]
}

@test "an ensemble of the same model twice gives the same predictions" {
	a=$(cnn-predict -m "$MODEL" -t "$TEST" | md5sum)
	b=$(cnn-predict -m "$MODEL" -m "$MODEL" -t "$TEST" | cut -d' ' -f1,2 | md5sum)
	c=$(cnn-predict -m "$MODEL" -t "$TEST" | cut -d' ' -f1,2 | md5sum)
	[ "$b" = "$c" ]
}

@test "multi-crop with --resize, and a photo resized to the model" {
	run bash -c "cnn-predict -m '$MODEL' -r -c 10 -t '$TEST' | wc -l"
	[ "$output" = "300" ]
	run bash -c "cnn-load $SKIMAGE/camera.png | cnn-predict -m '$MODEL' -r -t"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^1\ [0-9]\ [01]\.[0-9]+$ ]]
}

@test "an image of another shape with the model's number of values, as cnn-train takes it" {
	# five Fashion-MNIST images as rows of 784 bytes, in a .npy file
	{ npy "|u1" "(5, 784)" ""
	  zcat $FASHION/t10k-images-idx3-ubyte.gz | tail -c +17 | head -c 3920; } > "$TMP/flat.npy"
	run bash -c "cnn-load '$TMP/flat.npy' | cnn-info"
	[[ "${lines[1]}" == *"u8    784 "* ]]
	cnn-head -n 5 "$TEST" | cnn-predict -m "$MODEL" -t > "$TMP/square.txt"
	cnn-load "$TMP/flat.npy" | cnn-predict -m "$MODEL" -t | cmp - "$TMP/square.txt"
	# u16 is scaled by 65535 as in training: byte b as 257 b predicts alike
	{ npy "<u2" "(5, 784)" ""
	  tail -c +129 "$TMP/flat.npy" | perl -0777 -pe 's/(.)/$1$1/gs'; } > "$TMP/flat16.npy"
	run bash -c "cnn-load '$TMP/flat16.npy' | cnn-info"
	[[ "${lines[1]}" == *"u16   784 "* ]]
	cnn-load "$TMP/flat16.npy" | cnn-predict -m "$MODEL" -t | cmp - "$TMP/square.txt"
	# with crops, the flat image is resized like a square one
	cnn-head -n 5 "$TEST" | cnn-predict -m "$MODEL" -r -c 5 -t > "$TMP/crops.txt"
	cnn-load "$TMP/flat.npy" | cnn-predict -m "$MODEL" -r -c 5 -t | cmp - "$TMP/crops.txt"
	# the whole array, 5x784, is not one image
	run bash -c "cnn-load -w image='$TMP/flat.npy' | cnn-predict -m '$MODEL'"
	assert_error cnn-predict 'record 1: tensor "image" is u8 5x784, neither C x H x W nor the model.s 784 values \(1x28x28\)'
	# an image of rank 3 is an image: one row of text, f32 1x1x784, is
	# resized with --resize and an error without
	cnn-head -n 1 "$TEST" | cnn-save -o - | tr -s ' \n' '  ' > "$TMP/row.txt"
	run bash -c "cnn-load --text '$TMP/row.txt' | cnn-predict -m '$MODEL'"
	assert_error cnn-predict 'record 1: tensor "image" is f32 1x1x784, the model takes 1x28x28 \(--resize converts\)'
	run bash -c "cnn-load --text '$TMP/row.txt' | cnn-predict -m '$MODEL' -r -t"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^1\ [0-9]\ [01]\.[0-9]+$ ]]
}

@test "bad input" {
	run bash -c "cnn-load $SKIMAGE/camera.png | cnn-predict -m '$MODEL' > /dev/null"
	assert_error cnn-predict 'record 1: tensor "image" is u8 1x512x512, the model takes 1x28x28 \(--resize converts\)'
	run cnn-predict -m "$TMP/none.cnnm"
	assert_error cnn-predict 'none.cnnm: No such file'
	run cnn-predict -m "$TEST"
	assert_error cnn-predict 'not a model file'
	run cnn-predict
	[ "$status" -eq 2 ]
	run cnn-predict -m "$MODEL" -c 3
	[ "$status" -eq 2 ]
}

@test "--features: a layer's outputs by number, name or from the end; C x H x W, or C for 1x1" {
	run bash -c "cnn-predict -m '$MODEL' -f 2 '$TEST' | cnn-head -n 1 | cnn-info -r"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^1:\ image=u8\ 1x28x28\ label=i32\ scalar\([0-9]\)\ features=f32\ 16x10x10$ ]]
	run bash -c "cnn-predict -m '$MODEL' --features 4 '$TEST' | cnn-head -n 1 | cnn-info -r"
	[[ "$output" =~ \ features=f32\ 120$ ]]
	# the last layer's features are the probabilities
	cnn-predict -m "$MODEL" -f -1 "$TEST" | cnn-save -f features -o "$TMP/f.txt"
	cnn-predict -m "$MODEL" "$TEST" | cnn-save -f probabilities -o "$TMP/p.txt"
	cmp "$TMP/f.txt" "$TMP/p.txt"
	# a name, from the cfg the model file holds
	cnn-darknet export "$MODEL" -o "$TMP/m.weights"
	awk '/^\[convolutional\]/ && ++n == 2 { print; print "name=conv2"; next } 1' "$LENET" > "$TMP/named.cfg"
	cnn-darknet import "$TMP/named.cfg" "$TMP/m.weights" -o "$TMP/named.cnnm"
	cnn-predict -m "$MODEL" -f -6 "$TEST" | cnn-save -f features -o "$TMP/2.txt"
	cnn-predict -m "$TMP/named.cnnm" -f conv2 "$TEST" | cnn-save -f features -o - | cmp - "$TMP/2.txt"
}

@test "--features equals the output of the model cut after that layer" {
	cnn-darknet export "$MODEL" -o "$TMP/m.weights"
	# LeNet-5 up to its second convolution, and the weights of those layers:
	# the header's 20 bytes, then 156 and 2,416 floats
	awk '/^\[maxpool\]/ && ++n == 2 { exit } 1' "$LENET" > "$TMP/cut.cfg"
	head -c $((20 + (156 + 2416) * 4)) "$TMP/m.weights" > "$TMP/cut.weights"
	cnn-darknet import "$TMP/cut.cfg" "$TMP/cut.weights" -o "$TMP/cut.cnnm"
	cnn-predict -m "$MODEL" -f 2 "$TEST" | cnn-save -f features -o - | tr -s ' \n' '\n\n' | grep . > "$TMP/a.txt"
	cnn-predict -m "$TMP/cut.cnnm" "$TEST" | cnn-save -f probabilities -o - | tr -s ' \n' '\n\n' | grep . > "$TMP/b.txt"
	[ "$(wc -l < "$TMP/a.txt")" -eq $((300 * 1600)) ]
	# equal as numbers: the ReLU's -0 is 0 once averaged into probabilities
	paste "$TMP/a.txt" "$TMP/b.txt" | awk '$1 != $2 { bad++ } END { exit bad > 0 }'
}

@test "--features: errors" {
	run cnn-predict -m "$MODEL" -f conv9 "$TEST"
	assert_error cnn-predict '^cnn-predict: --features conv9: no layer is named conv9$'
	run cnn-predict -m "$MODEL" -f 8 "$TEST"
	assert_error cnn-predict '^cnn-predict: --features 8: no layer 8: the network has layers 0 to 7 \(or -8 to -1\)$'
	for args in "-m $MODEL -f 2" "-f 2 -t" "-f 2 -r -c 5"; do
		run cnn-predict -m "$MODEL" $args "$TEST"
		[ "$status" -eq 2 ]
		[ "${lines[0]}" = "cnn-predict: --features takes one model, no --crops and no --text" ]
	done
}

@test "cnn-eval: accuracy, top-5, confusion; bad input" {
	run bash -c "cnn-predict -m '$MODEL' '$TEST' | cnn-eval"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "records 300" ]
	[[ "${lines[1]}" =~ ^accuracy\ 0\.[0-9]+\ \([0-9]+\ of\ 300\)$ ]]
	[[ "$output" == *"confusion (rows: true class, columns: predicted)"* ]]
	run bash -c "cnn-eval < '$TEST'"
	assert_error cnn-eval 'record 1: no "prediction" or "probabilities" \(run cnn-predict first\)'
	run cnn-eval --bogus
	[ "$status" -eq 2 ]
}

@test "cnn-eval: a soft label counts as its heaviest class; a fractional class is an error" {
	# Mixup after the predictions: the labels become vectors of 10 weights.
	cnn-predict -m "$MODEL" "$TEST" | cnn-augment --mixup=0.4,classes=10 > "$TMP/soft.cnn"
	run cnn-info "$TMP/soft.cnn"
	[[ "$output" == *"label         f32   10 "* ]]
	want=$(paste <(cnn-save -f label -o - < "$TMP/soft.cnn" | grep -v '^$') \
		<(cnn-save -f prediction -o - < "$TMP/soft.cnn" | grep -v '^$') |
		awk '{ b = 1; for (j = 2; j <= 10; j++) if ($j > $b) b = j; n += b - 1 == $11 } END { print n }')
	run cnn-eval -q "$TMP/soft.cnn"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "accuracy $(awk -v n="$want" 'BEGIN { printf "%.4f", n / 300 }') ($want of 300)" ]
	# a record {label: f32 2.5, prediction: i32 2}, and one whose label has 3
	# weights for 10 probabilities
	npy "<f4" "(1,)" '\000\000\040\100' > "$TMP/half.npy"
	npy "<i4" "(1,)" '\002\000\000\000' > "$TMP/two.npy"
	npy "<f4" "(1, 3)" '\000\000\200\077\000\000\000\000\000\000\000\000' > "$TMP/three.npy"
	run bash -c "cnn-load label='$TMP/half.npy' prediction='$TMP/two.npy' | cnn-eval"
	assert_error cnn-eval 'record 1: label 2.5 is not a whole number'
	run bash -c "cnn-head -n 1 '$TMP/soft.cnn' | cnn-save -f probabilities -o '$TMP/p.npy' &&
		cnn-load label='$TMP/three.npy' probabilities='$TMP/p.npy' | cnn-eval"
	assert_error cnn-eval 'record 1: tensor "label" has 3 weights, "probabilities" 10'
	# Raw records (cnn-stream(5)) with an empty f32 tensor: cnn-load
	# refuses arrays of empty items.
	printf 'CNNR\001\000\002\000\043\0\0\0\0\0\0\0\005\001\005\000label\0\0\0\0\0\0\0\0\003\000\012\000prediction\002\0\0\0' > "$TMP/none.cnn"
	run cnn-eval "$TMP/none.cnn"
	assert_error cnn-eval 'record 1: tensor "label" is empty'
	printf 'CNNR\001\000\002\000\043\0\0\0\0\0\0\0\003\000\005\000label\002\0\0\0\005\001\012\000prediction\0\0\0\0\0\0\0\0' > "$TMP/none.cnn"
	run cnn-eval "$TMP/none.cnn"
	assert_error cnn-eval 'record 1: tensor "prediction" is empty'
	run bash -c "cnn-load label='$TMP/two.npy' prediction='$TMP/half.npy' | cnn-eval"
	assert_error cnn-eval 'record 1: prediction 2.5 is not a whole number'
}

@test "non-finite inputs and outputs are errors, not class 0" {
	run bash -c "printf 'nan 1\n' | cnn-load --allow-nonfinite --text - | cnn-predict -t -m '$MODEL'"
	assert_error cnn-predict 'record 1: tensor "image" holds nan at index 0'
	# Weights of 1e30 overflow: the outputs are NaN.
	{ printf '\000\000\000\000\002\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
	  for i in $(seq 61706); do printf '\312\362\111\161'; done; } > "$TMP/huge.weights"
	cnn-darknet import -o "$TMP/huge.cnnm" "$LENET" "$TMP/huge.weights"
	run cnn-predict -t -m "$TMP/huge.cnnm" "$TEST"
	assert_error cnn-predict "^cnn-predict: record 1: the model's output for class [0-9] is (nan|infinite)$"
}

@test "cnn-eval refuses NaN probabilities" {
	npy '<f4' '(1, 3)' '\315\314\314\075\000\000\300\177\315\314\114\076' > "$TMP/p.npy"
	npy '<i4' '(1,)' '\001\000\000\000' > "$TMP/l.npy"
	run bash -c "cnn-load --allow-nonfinite probabilities='$TMP/p.npy' label='$TMP/l.npy' | cnn-eval"
	assert_error cnn-eval 'record 1: tensor "probabilities" holds nan at index 1'
}
