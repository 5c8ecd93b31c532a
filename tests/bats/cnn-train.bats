load helper

LENET="$BATS_TEST_DIRNAME/../../examples/zoo/lenet5.cfg"

# 2000 training and 500 test records of Fashion-MNIST, made once per file.
setup_file() {
	export PATH="${CNN_BIN:-$BATS_TEST_DIRNAME/../../build}:$PATH"
	D=/usr/share/datasets/fashion-mnist
	export SMALL="$BATS_FILE_TMPDIR/train.cnn" SMALLTEST="$BATS_FILE_TMPDIR/test.cnn"
	cnn-load $D/train-images-idx3-ubyte.gz $D/train-labels-idx1-ubyte.gz | cnn-head -n 2000 > "$SMALL"
	cnn-load $D/t10k-images-idx3-ubyte.gz $D/t10k-labels-idx1-ubyte.gz | cnn-head -n 500 > "$SMALLTEST"
}

@test "LeNet-5 learns: the log, the model file, predictions, evaluation" {
	run cnn-train -m "$LENET" -o "$TMP/m.cnnm" -e 3 -v "$SMALLTEST" "$SMALL"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[2]}" =~ ^epoch=3\ step=96\ loss=[0-9.]+\ acc=[0-9.]+\ val_loss=[0-9.]+\ val_acc=0\.[6-9] ]]
	run bash -c "cnn-info '$TMP/m.cnnm' | head -3"
	[ "${lines[0]}" = "3 records" ]
	run bash -c "cnn-predict -m '$TMP/m.cnnm' '$SMALLTEST' | cnn-eval -q"
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" =~ ^accuracy\ 0\.[6-9] ]]
	[[ "${lines[2]}" =~ ^top-5\ 0\.9 ]]
}

@test "the same seed and threads give the same model, byte for byte" {
	cnn-train -j 2 -S 5 -m "$LENET" -o "$TMP/a.cnnm" -e 1 "$SMALL" > /dev/null
	cnn-train -j 2 -S 5 -m "$LENET" -o "$TMP/b.cnnm" -e 1 "$SMALL" > /dev/null
	cnn-train -j 2 -S 6 -m "$LENET" -o "$TMP/c.cnnm" -e 1 "$SMALL" > /dev/null
	cmp "$TMP/a.cnnm" "$TMP/b.cnnm"
	! cmp -s "$TMP/a.cnnm" "$TMP/c.cnnm"
}

@test "SIGINT mid-run writes a checkpoint; --resume finishes with the same weights" {
	cnn-train -j 2 -m "$LENET" -o "$TMP/full.cnnm" -e 60 "$SMALL" > "$TMP/full.log"
	# Interrupt once the second epoch is logged, wherever the batch is then.
	cnn-train -j 2 -m "$LENET" -o "$TMP/part.cnnm" -e 60 "$SMALL" > "$TMP/part.log" 2> "$TMP/err" &
	pid=$!
	while ! grep -q '^epoch=2 ' "$TMP/part.log" && kill -0 $pid 2>/dev/null; do sleep 0.01; done
	kill -INT $pid
	status=0
	wait $pid || status=$?
	[ "$status" -eq 130 ]
	[[ "$(cat "$TMP/err")" == *"stopped by signal 2 at epoch"*"continue with --resume"* ]]
	run cnn-train -j 2 --resume -o "$TMP/part.cnnm" -e 60 "$SMALL"
	[ "$status" -eq 0 ]
	[ "$(echo "${lines[-1]}" | sed 's/ seconds=.*//')" = "$(tail -1 "$TMP/full.log" | sed 's/ seconds=.*//')" ]
	cmp "$TMP/full.cnnm" "$TMP/part.cnnm"
}

@test "--resume keeps a seed of all 64 bits: one epoch, then one more, is two epochs" {
	seed=4611686018427387903
	cnn-train -S $seed -m "$LENET" -o "$TMP/two.cnnm" -e 2 "$SMALLTEST" > /dev/null
	cnn-train -S $seed -m "$LENET" -o "$TMP/one.cnnm" -e 1 "$SMALLTEST" > /dev/null
	cnn-train --resume -o "$TMP/one.cnnm" -e 2 "$SMALLTEST" > /dev/null
	cmp "$TMP/two.cnnm" "$TMP/one.cnnm"
}

@test "--checkpoint writes the model file during training" {
	cnn-train -m "$LENET" -o "$TMP/ck.cnnm" -e 1 --checkpoint 10 --log-every 10 "$SMALL" > "$TMP/log"
	[ "$(grep -c '^step=' "$TMP/log")" -eq 3 ]
	[ -s "$TMP/ck.cnnm" ]
	[ -z "$(ls "$TMP" | grep '\.tmp')" ]
}

@test "one pass over a stream, mixup and manifold mixup train" {
	run bash -c "cnn-train -m '$LENET' -o '$TMP/op.cnnm' --one-pass < '$SMALL'"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^epoch=1\ step=32\  ]]
	run cnn-train -m "$LENET" -o "$TMP/mx.cnnm" -e 1 --mixup 0.4 "$SMALL"
	[ "$status" -eq 0 ]
	run cnn-train -m "$LENET" -o "$TMP/mm.cnnm" -e 1 --manifold-mixup 2 "$SMALL"
	[ "$status" -eq 0 ]
}

@test "transfer learning: copy and freeze the first layers" {
	cnn-train -m "$LENET" -o "$TMP/base.cnnm" -e 1 "$SMALL" > /dev/null
	run cnn-train -m "$LENET" -o "$TMP/tl.cnnm" -e 1 --init "$TMP/base.cnnm" --init-layers 4 --freeze 4 "$SMALL"
	[ "$status" -eq 0 ]
	[[ "$output" == *"4 layers from"* ]]
	# The frozen first convolution is the base model's, unchanged.
	run bash -c "cnn-head -s 1 -n 1 '$TMP/base.cnnm' | cnn-save -f 0.weight -o - | md5sum; cnn-head -s 1 -n 1 '$TMP/tl.cnnm' | cnn-save -f 0.weight -o - | md5sum"
	[ "${lines[0]}" = "${lines[1]}" ]
	run bash -c "cnn-head -s 1 -n 1 '$TMP/base.cnnm' | cnn-save -f 4.weight -o - | md5sum; cnn-head -s 1 -n 1 '$TMP/tl.cnnm' | cnn-save -f 4.weight -o - | md5sum"
	[ "${lines[0]}" != "${lines[1]}" ]
}

@test "--gradcheck on a cfg" {
	run cnn-train --gradcheck -m "$LENET" "$SMALLTEST"
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" == *": ok" ]]
}

@test "bad input: wrong image size, labels out of range, bad cfg, usage" {
	run bash -c "cnn-load -c 1 $SKIMAGE/camera.png | cnn-train -m '$LENET' -o '$TMP/x.cnnm'"
	assert_error cnn-train '<stdin> record 1: tensor "image" is u8 1x512x512: 262144 values, the model takes 784'
	run bash -c "printf '1 2\n' | cnn-load --text - > /dev/null; cnn-load -r 28 -c 1 $SKIMAGE/camera.png | cnn-train -m '$LENET' -o '$TMP/x.cnnm'"
	assert_error cnn-train 'record 1: no tensor "label"'
	printf '[net]\nchannels=1\nheight=28\nwidth=28\n[convolutional]\nfilters=2\nsize=3\nstrid=2\n' > "$TMP/bad.cfg"
	run cnn-train -m "$TMP/bad.cfg" -o "$TMP/x.cnnm" "$SMALL"
	assert_error cnn-train 'bad.cfg:8: unknown key .strid. in \[convolutional\]'
	run cnn-train -m "$LENET"
	[ "$status" -eq 2 ]
	run cnn-train -o x --resume --one-pass
	[ "$status" -eq 2 ]
	[ ! -e "$TMP/x.cnnm" ]
}

@test "a step that turns NaN stops training at that step; the last checkpoint stays good" {
	run cnn-train -m "$LENET" -e 1 -l 1e6 -o "$TMP/nan.cnnm" "$SMALLTEST"
	assert_error cnn-train '^cnn-train: step [0-9]+: the (loss is nan|gradient of layer .* is not finite): lower the learning rate \(.*nan.cnnm is not written\)$'
	[ ! -e "$TMP/nan.cnnm" ]
	run cnn-train -m "$LENET" -e 1 -l 1e6 --checkpoint 1 -o "$TMP/nan.cnnm" "$SMALLTEST"
	assert_error cnn-train 'holds the model of step [0-9]+\)$'
	step=$(echo "$output" | sed 's/.*of step \([0-9]*\))$/\1/')
	[ "$(cnn-head -n 1 "$TMP/nan.cnnm" | cnn-save -f step -o -)" = "$step" ]
	# That model is finite, and resuming from it meets the same step again.
	run bash -c "cnn-info '$TMP/nan.cnnm' | grep -c ' nan '"
	[ "$output" = 0 ]
	run cnn-train --resume -e 1 -o "$TMP/nan.cnnm" "$SMALLTEST"
	assert_error cnn-train "step $((step + 1)): .*holds the model of step $step\)$"
}

@test "one NaN pixel is an error naming the record, not a NaN model" {
	cnn-head -n 3 "$SMALLTEST" | cnn-save -o "$TMP/u8.npy"
	cnn-load image="$TMP/u8.npy" | cnn-augment --normalize=mean=0,std=1 | cnn-save -o "$TMP/x.npy"
	cnn-head -n 3 "$SMALLTEST" | cnn-save -f label -o "$TMP/label.npy"
	# A NaN in the middle of the second image.
	printf '\000\000\300\177' | dd of="$TMP/x.npy" bs=1 seek=$((128 + 4 * (784 + 400))) conv=notrunc 2>/dev/null
	run bash -c "cnn-load --allow-nonfinite image='$TMP/x.npy' label='$TMP/label.npy' | cnn-train -m '$LENET' -o '$TMP/m.cnnm'"
	assert_error cnn-train 'record 2: tensor "image" holds nan'
	[ ! -e "$TMP/m.cnnm" ]
}
