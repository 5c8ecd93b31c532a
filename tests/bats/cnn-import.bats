load helper

FACEAPI="$BATS_TEST_DIRNAME/../../examples/pretrained/npm/face-api/package/model"

# Bytes given as decimal numbers.
bytes() {
	for b; do printf "\\$(printf %03o "$b")"; done
}

# A tiny net, 1x3x3 -> [convolutional] 3x3, 2 filters -> [connected] 2, and
# its TF.js weights in two shards (split inside conv1/bias, a float32 at
# byte 18): filter 0 the identity, filter 1 minus it, biases 0.5 and 0;
# fc output 0 sums channel 0, output 1 is channel 1 at the last pixel, over
# TF's NHWC flattening (input s * 2 + c).  So the outputs for the image
# 1..9 are 45 + 9 * 0.5 = 49.5 and -9.
setup() {
	TMP="$BATS_TEST_TMPDIR"
	printf '[net]\nchannels=1\nheight=3\nwidth=3\n\n[convolutional]\nname=conv1\nfilters=2\nsize=3\npad=1\nactivation=linear\n\n[connected]\nname=fc\noutput=2\nactivation=linear\n' > "$TMP/tiny.cfg"
	cat > "$TMP/weights_manifest.json" <<-'EOF'
	[{"paths": ["group1-shard1of2.bin", "group1-shard2of2.bin"], "weights": [
	  {"name": "conv1/kernel", "shape": [3, 3, 1, 2], "dtype": "float32",
	   "quantization": {"dtype": "uint8", "scale": 1, "min": -1}},
	  {"name": "conv1/bias", "shape": [2], "dtype": "float32"},
	  {"name": "fc/kernel", "shape": [18, 2], "dtype": "float32",
	   "quantization": {"dtype": "uint8", "scale": 1, "min": 0}},
	  {"name": "Preprocessor/sub/y", "shape": [], "dtype": "int32",
	   "quantization": {"dtype": "uint8", "scale": 1, "min": 3}}]}]
	EOF
	{
		bytes 1 1 1 1 1 1 1 1 2 0 1 1 1 1 1 1 1 1
		bytes 0 0 0 63 0 0 0 0
		for i in $(seq 0 17); do bytes $(( i % 2 == 0 )) $(( i == 17 )); done
		bytes 0
	} > "$TMP/all.bin"
	head -c 20 "$TMP/all.bin" > "$TMP/group1-shard1of2.bin"
	tail -c +21 "$TMP/all.bin" > "$TMP/group1-shard2of2.bin"
	cat > "$TMP/tiny.map" <<-'EOF'
	# TF.js tensor       our parameter
	conv1/kernel         conv1.weight
	conv1/bias           conv1.bias
	fc/kernel            fc.weight
	= 0                  fc.bias
	- Preprocessor/sub/y
	EOF
	printf '1 2 3\n4 5 6\n7 8 9\n' | cnn-load --text - > "$TMP/image.cnn"
}

import_tiny() {
	cnn-import --manifest "$TMP/weights_manifest.json" --cfg "$TMP/tiny.cfg" --map "$TMP/tiny.map" -o "$TMP/tiny.cnnm"
}

@test "--list prints a manifest's tensors: name, shape, dtype, quantization, offset, bytes" {
	run cnn-import --list "$TMP/weights_manifest.json"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	[ "$(echo ${lines[0]})" = "name shape dtype quantization scale min offset bytes" ]
	[ "$(echo ${lines[1]})" = "conv1/kernel 3x3x1x2 float32 uint8 1 -1 0 18" ]
	[ "$(echo ${lines[2]})" = "conv1/bias 2 float32 - - - 18 8" ]
	[ "$(echo ${lines[3]})" = "fc/kernel 18x2 float32 uint8 1 0 26 36" ]
	[ "$(echo ${lines[4]})" = "Preprocessor/sub/y scalar int32 uint8 1 3 62 1" ]
}

@test "--list reads a model.json's weightsManifest alike" {
	{ printf '{"format": "layers-model", "modelTopology": {}, "weightsManifest": '; cat "$TMP/weights_manifest.json"; printf '}\n'; } > "$TMP/model.json"
	cmp <(cnn-import --list "$TMP/model.json") <(cnn-import --list "$TMP/weights_manifest.json")
}

# The tiny net as a TF.js layers model: its Keras topology (Sequential:
# a 3x3 SAME convolution, Flatten, Dense without a bias) and the same
# weights but the int32 constant.
tiny_keras() {
	head -c 62 "$TMP/all.bin" > "$TMP/keras.bin"
	cat > "$TMP/keras.json" <<-'EOF'
	{"format": "layers-model", "modelTopology": {"class_name": "Sequential", "config": {"name": "tiny", "layers": [
	  {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 3, 3, 1]}},
	  {"class_name": "Conv2D", "config": {"name": "conv1", "filters": 2, "kernel_size": [3, 3], "strides": [1, 1],
	   "padding": "same", "dilation_rate": [1, 1], "activation": "linear", "use_bias": true}},
	  {"class_name": "Flatten", "config": {"name": "flatten"}},
	  {"class_name": "%DENSE%", "config": {"name": "fc", "units": 2, "activation": "linear", "use_bias": false}}]}},
	 "weightsManifest": [{"paths": ["keras.bin"], "weights": [
	  {"name": "conv1/kernel", "shape": [3, 3, 1, 2], "dtype": "float32",
	   "quantization": {"dtype": "uint8", "scale": 1, "min": -1}},
	  {"name": "conv1/bias", "shape": [2], "dtype": "float32"},
	  {"name": "fc/kernel", "shape": [18, 2], "dtype": "float32",
	   "quantization": {"dtype": "uint8", "scale": 1, "min": 0}}]}]}
	EOF
	sed -i "s/%DENSE%/${1:-Dense}/" "$TMP/keras.json"
}

@test "--tfjs: a Keras model.json makes a model that cnn-predict runs, --cfg-out its cfg" {
	tiny_keras
	run cnn-import --tfjs "$TMP/keras.json" --input-rule align_corners --cfg-out "$TMP/keras.cfg" -o "$TMP/keras.cnnm"
	[ "$status" -eq 0 ]
	grep -qx 'resize=align_corners' "$TMP/keras.cfg"
	grep -qx 'name=conv1' "$TMP/keras.cfg"
	run bash -c "cnn-predict -m '$TMP/keras.cnnm' -f -1 '$TMP/image.cnn' | cnn-save -f features -o -"
	[ "$status" -eq 0 ]
	[ "$(echo $output)" = "49.5 -9" ]
	run cnn-import --list "$TMP/keras.json"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
}

@test "--tfjs: a layer class we lack is one line naming the layer and the class, exit 1" {
	tiny_keras Lambda
	run cnn-import --tfjs "$TMP/keras.json" -o "$TMP/keras.cnnm"
	[ "$status" -eq 1 ]
	assert_error cnn-import 'keras.json: layer fc \(Lambda\): class Lambda is not supported'
	[ ! -e "$TMP/keras.cnnm" ]
	run cnn-import --tfjs "$TMP/keras.json" --cfg "$TMP/tiny.cfg" -o "$TMP/keras.cnnm"
	[ "$status" -eq 2 ]
	run cnn-import --manifest "$TMP/weights_manifest.json" --input-rule align_corners --cfg "$TMP/tiny.cfg" --map "$TMP/tiny.map" -o "$TMP/t.cnnm"
	[ "$status" -eq 2 ]
}

@test "a manifest, a cfg and a map make a model that cnn-predict runs" {
	import_tiny
	run bash -c "cnn-predict -m '$TMP/tiny.cnnm' -f -1 '$TMP/image.cnn' | cnn-save -f features -o -"
	[ "$status" -eq 0 ]
	[ "$(echo $output)" = "49.5 -9" ]
	# HWIO became filters x channels x 3 x 3: filter 0 the identity
	run bash -c "cnn-head -s 1 -n 1 '$TMP/tiny.cnnm' | cnn-save -f 0.weight -o - | head -3"
	[ "$output" = "$(printf '0 0 0\n0 1 0\n0 0 0')" ]
	run cnn-summary -q "$TMP/tiny.cnnm"
	[ "$output" = "$TMP/tiny.cnnm: 58 parameters, 0.00 M multiply-adds, input 1x3x3" ]
}

@test "--darknet is cnn-darknet import: the same model file, byte for byte" {
	import_tiny
	cnn-darknet export "$TMP/tiny.cnnm" -o "$TMP/tiny.weights"
	cnn-import --darknet "$TMP/tiny.weights" --cfg "$TMP/tiny.cfg" -o "$TMP/a.cnnm"
	cnn-darknet import "$TMP/tiny.cfg" "$TMP/tiny.weights" -o "$TMP/b.cnnm"
	cmp "$TMP/a.cnnm" "$TMP/b.cnnm"
	cmp <(cnn-head -s 1 -n 1 "$TMP/a.cnnm") <(cnn-head -s 1 -n 1 "$TMP/tiny.cnnm")
}

@test "--list with --cfg lists a darknet .weights in file order" {
	import_tiny
	cnn-darknet export "$TMP/tiny.cnnm" -o "$TMP/tiny.weights"
	run cnn-import --list "$TMP/tiny.weights" --cfg "$TMP/tiny.cfg"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	[ "$(echo ${lines[1]})" = "0.bias 2 float32 - - - 20 8" ]
	[ "$(echo ${lines[2]})" = "0.weight 2x1x3x3 float32 - - - 28 72" ]
	[ "$(echo ${lines[3]})" = "1.bias 2 float32 - - - 100 8" ]
	[ "$(echo ${lines[4]})" = "1.weight 2x18 float32 - - - 108 144" ]
	# 20 + 4 * 58 bytes
	[ "$(stat -c %s "$TMP/tiny.weights")" -eq 252 ]
	head -c 100 "$TMP/tiny.weights" > "$TMP/short.weights"
	run cnn-import --list "$TMP/short.weights" --cfg "$TMP/tiny.cfg"
	assert_error cnn-import 'short.weights: ends in layer 1 \[connected\]'
}

@test "shards that do not hold the tensors' bytes: one line naming the tensor, exit 1" {
	cp "$TMP/group1-shard2of2.bin" "$TMP/keep.bin"
	head -c 30 "$TMP/keep.bin" > "$TMP/group1-shard2of2.bin"
	run import_tiny
	assert_error cnn-import 'weights_manifest.json: tensor "fc/kernel" \(36 bytes at offset 26\) is cut short: the shards end at byte 50, 13 short of the tensors'
	[ ! -e "$TMP/tiny.cnnm" ]
	{ cat "$TMP/keep.bin"; printf 'xy'; } > "$TMP/group1-shard2of2.bin"
	run cnn-import --list "$TMP/weights_manifest.json"
	assert_error cnn-import '2 bytes after the last tensor "Preprocessor/sub/y"'
	rm "$TMP/group1-shard2of2.bin"
	run import_tiny
	assert_error cnn-import 'shard ".*/group1-shard2of2.bin": No such file or directory, so tensor "conv1/bias" and those after it have no bytes'
}

@test "--list shows a graph model's bool, string and complex64 tensors; importing one is an error" {
	printf '{"format": "graph-model", "weightsManifest": [{"paths": ["g.bin"], "weights": [{"name": "training", "shape": [], "dtype": "bool"}, {"name": "labels", "shape": [2], "dtype": "string"}, {"name": "fft", "shape": [1], "dtype": "complex64"}]}]}' > "$TMP/graph.json"
	{ bytes 1 3 0 0 0; printf cat; bytes 3 0 0 0; printf dog; head -c 8 /dev/zero; } > "$TMP/g.bin"
	run cnn-import --list "$TMP/graph.json"
	[ "$status" -eq 0 ]
	[ "$(echo ${lines[1]})" = "training scalar bool - - - 0 1" ]
	[ "$(echo ${lines[2]})" = "labels 2 string - - - 1 14" ]
	[ "$(echo ${lines[3]})" = "fft 1 complex64 - - - 15 8" ]
	printf 'labels conv1.bias\n- training\n- fft\n= 0 conv1.weight\n= 0 fc.weight\n= 0 fc.bias\n' > "$TMP/g.map"
	run cnn-import --manifest "$TMP/graph.json" --cfg "$TMP/tiny.cfg" --map "$TMP/g.map" -o "$TMP/g.cnnm"
	assert_error cnn-import 'graph.json: tensor "labels" is string, which libcnn does not hold'
	[ ! -e "$TMP/g.cnnm" ]
}

@test "a malformed manifest, a bad dtype or quantization: one line, exit 1" {
	printf '[{"paths": [], "weights": [{"name": "w", "shape": [1], "dtype": "float64"}]}]' > "$TMP/m.json"
	run cnn-import --list "$TMP/m.json"
	assert_error cnn-import 'm.json: tensor "w": dtype "float64" is not float32, int32, bool, complex64 or string'
	printf '[{"paths": [], "weights": [{"name": "w", "shape": [1], "dtype": "float32", "quantization": {"dtype": "int4"}}]}]' > "$TMP/m.json"
	run cnn-import --list "$TMP/m.json"
	assert_error cnn-import 'm.json: tensor "w": quantization dtype "int4" is not uint8, uint16 or float16'
	printf '[{"paths": [], "weights": [{"name": "w", "shape": [1' > "$TMP/m.json"
	run cnn-import --list "$TMP/m.json"
	assert_error cnn-import 'm.json: line 1: '
	run cnn-import --list "$TMP/tiny.cfg"
	assert_error cnn-import 'tiny.cfg: line 1: not a JSON value'
}

@test "a map that leaves something out, or does not fit: one line naming it, exit 1" {
	grep -v '^=' "$TMP/tiny.map" > "$TMP/bad.map"
	run cnn-import --manifest "$TMP/weights_manifest.json" --cfg "$TMP/tiny.cfg" --map "$TMP/bad.map" -o "$TMP/t.cnnm"
	assert_error cnn-import 'bad.map: layer 1 \[connected\] fc \(cfg line 13\): its bias is neither filled nor declared \(a line "TENSOR fc.bias" or "= 0 fc.bias"\)'
	grep -v '^-' "$TMP/tiny.map" > "$TMP/bad.map"
	run cnn-import --manifest "$TMP/weights_manifest.json" --cfg "$TMP/tiny.cfg" --map "$TMP/bad.map" -o "$TMP/t.cnnm"
	assert_error cnn-import 'bad.map: tensor "Preprocessor/sub/y" of the manifest is neither used nor ignored'
	sed 's/^fc.kernel .*/fc\/kernel conv1.bias/; s/^conv1.bias .*/conv1\/bias fc.weight/' "$TMP/tiny.map" > "$TMP/bad.map"
	run cnn-import --manifest "$TMP/weights_manifest.json" --cfg "$TMP/tiny.cfg" --map "$TMP/bad.map" -o "$TMP/t.cnnm"
	assert_error cnn-import 'bad.map:3: tensor "conv1/bias" is 2, but layer 1 \[connected\] fc \(cfg line 13\) has weight 2x18, which takes a TF.js 18x2'
	printf 'conv1/kernel conv1.weights\n' > "$TMP/bad.map"
	run cnn-import --manifest "$TMP/weights_manifest.json" --cfg "$TMP/tiny.cfg" --map "$TMP/bad.map" -o "$TMP/t.cnnm"
	assert_error cnn-import 'bad.map:1: layer 0 \[convolutional\] conv1 \(cfg line 6\) has no parameter "weights" \(it has weight, bias\)'
	[ ! -e "$TMP/t.cnnm" ]
}

@test "bad usage exits 2" {
	run cnn-import
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "cnn-import: what to import? --manifest, --tfjs, --darknet or --list" ]
	run cnn-import --manifest "$TMP/weights_manifest.json" --cfg "$TMP/tiny.cfg" -o "$TMP/t.cnnm"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "cnn-import: --manifest needs --map FILE" ]
	run cnn-import --manifest "$TMP/weights_manifest.json" --map "$TMP/tiny.map" -o "$TMP/t.cnnm"
	[ "${lines[0]}" = "cnn-import: --manifest needs --cfg MODEL.cfg" ]
	run cnn-import --manifest "$TMP/weights_manifest.json" --cfg "$TMP/tiny.cfg" --map "$TMP/tiny.map"
	[ "${lines[0]}" = "cnn-import: --manifest needs -o MODEL" ]
	run cnn-import --manifest "$TMP/weights_manifest.json" --cfg "$TMP/tiny.cfg" --map "$TMP/tiny.map" -o -
	[ "$status" -eq 2 ]
	run cnn-import --manifest a.json --darknet b.weights
	[ "${lines[0]}" = "cnn-import: --manifest and --darknet: one input at a time" ]
	run cnn-import --list "$TMP/weights_manifest.json" -o "$TMP/x"
	[ "$status" -eq 2 ]
	run cnn-import --darknet x.weights --cfg "$TMP/tiny.cfg" --map "$TMP/tiny.map" -o "$TMP/x"
	[ "$status" -eq 2 ]
	run cnn-import --list "$TMP/weights_manifest.json" extra
	[ "$status" -eq 2 ]
	run cnn-import --tfjs model.json
	[ "$status" -eq 2 ]
	run cnn-import --manifest "$TMP/weights_manifest.json" --cfg "$TMP/tiny.cfg" --map "$TMP/tiny.map" -o "$TMP/tiny.map"
	[ "$status" -eq 2 ]
	[ "$(head -1 "$TMP/tiny.map")" = "# TF.js tensor       our parameter" ]
	run cnn-import --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "Usage: cnn-import --manifest"* ]]
}

@test "face-api's tiny face detector manifest lists whole" {
	[ -e "$FACEAPI/tiny_face_detector_model-weights_manifest.json" ] ||
		skip "face-api's weights are not there (make -C examples/pretrained weights)"
	run cnn-import --list "$FACEAPI/tiny_face_detector_model-weights_manifest.json"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 20 ]
	[ "$(echo ${lines[1]})" = "conv0/filters 3x3x3x16 float32 uint8 0.009007044399485869 -1.2069439495311063 0 432" ]
	[ "$(echo ${lines[19]})" = "conv8/bias 25 float32 uint8 0.002268134028303857 -0.41053225912299807 193296 25" ]
}
