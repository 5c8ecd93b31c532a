# The stream contract as every program sees it: bad input is one line and
# exit 1; pipes end quietly; memory stays bounded per record.
load helper

@test "a truncated record" {
	cnn-load -z 0 $SKIMAGE/camera.png | head -c 5000 > "$TMP/cut.cnn"
	run bash -c "cnn-conv -k box < '$TMP/cut.cnn' > /dev/null"
	assert_error cnn-conv '^cnn-conv: <stdin> record 1: truncated record$'
}

@test "a truncated compressed stream" {
	cnn-load $SKIMAGE/camera.png | head -c 5000 > "$TMP/cut.cnn"
	run cnn-info "$TMP/cut.cnn"
	assert_error cnn-info 'cut.cnn record 1: truncated'
}

@test "bad magic" {
	run bash -c "echo 'P6 not a stream at all' | cnn-pool > /dev/null"
	assert_error cnn-pool '<stdin> record 1: not a tensor stream \(bad magic\)'
}

@test "an unknown version" {
	run bash -c "printf 'CNNR\002\000\000\000\000\000\000\000\000\000\000\000' | cnn-info"
	assert_error cnn-info 'record 1: stream version 2.0'
}

@test "an unknown dtype" {
	run bash -c "printf 'CNNR\001\000\001\000\015\000\000\000\000\000\000\000\011\001\001\000x\001\000\000\000\000\000\000\000' | cnn-info"
	assert_error cnn-info 'record 1: unknown dtype 9'
}

@test "a shape whose size overflows" {
	run bash -c "printf 'CNNR\001\000\001\000\045\000\000\000\000\000\000\000\005\002\001\000x\000\000\000\000\000\000\000\100\000\000\000\000\000\000\000\100' | cnn-info"
	assert_error cnn-info 'record 1: tensor "x": shape too large'
}

@test "a tensor over the size limit, which is settable" {
	cnn-load $SKIMAGE/camera.png > "$TMP/cam.cnn"
	run bash -c "CNN_MAX_TENSOR_BYTES=100000 cnn-info '$TMP/cam.cnn'"
	assert_error cnn-info 'cam.cnn record 1: tensor "image": shape too large \(over 100000 bytes\)'
	run bash -c "CNN_MAX_TENSOR_BYTES=300000 cnn-info '$TMP/cam.cnn'"
	[ "$status" -eq 0 ]
}

@test "garbage compressed data" {
	cnn-load $SKIMAGE/camera.png > "$TMP/z.cnn"
	printf 'garbage!garbage!' | dd of="$TMP/z.cnn" bs=1 seek=3000 conv=notrunc 2>/dev/null
	run bash -c "cnn-conv -k box < '$TMP/z.cnn' > /dev/null"
	assert_error cnn-conv 'record 1: corrupt compressed data'
}

@test "random bytes" {
	head -c 100000 /dev/urandom > "$TMP/junk"
	for prog in "cnn-conv -k box" "cnn-pool" "cnn-save -o -" "cnn-info" "cnn-head" "cnn-shuffle" "cnn-split -f 0.5 -v $TMP/v"; do
		run bash -c "$prog < '$TMP/junk' > /dev/null"
		assert_error "${prog%% *}" '<stdin> record 1: '
	done
}

@test "an empty input where records are required" {
	for prog in "cnn-conv -k box" "cnn-pool" "cnn-save -o -"; do
		run bash -c "$prog < /dev/null > /dev/null"
		assert_error "${prog%% *}" '<stdin>: empty input \(no records\)$'
	done
}

@test "records written before an error stay readable" {
	cnn-load -c 1 $SKIMAGE/camera.png > "$TMP/g.cnn"
	cnn-load -c 3 $SKIMAGE/coins.png > "$TMP/c.cnn"
	run bash -c "cat '$TMP/g.cnn' '$TMP/g.cnn' '$TMP/c.cnn' | cnn-conv -k box > '$TMP/out.cnn'"
	[ "$status" -eq 1 ]
	run cnn-info "$TMP/out.cnn"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "2 records" ]
}

@test "concatenated streams, compressed and raw, are one stream" {
	cnn-load -z 0 $SKIMAGE/camera.png > "$TMP/raw.cnn"
	cnn-load -z 19 $SKIMAGE/coins.png > "$TMP/z.cnn"
	run bash -c "cat '$TMP/raw.cnn' '$TMP/z.cnn' '$TMP/raw.cnn' | cnn-info"
	[ "${lines[0]}" = "3 records" ]
}

@test "| head -c 1 ends quietly" {
	run bash -c "cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-conv -k box | head -c 1 | wc -c"
	[ "$status" -eq 0 ]
	[ "$output" = "1" ]
}

@test "a per-record pipeline over a 1 GB stream stays under 100 MB" {
	# The sanitizers' shadow memory makes a resident-size bound meaningless.
	[ -z "$CNN_SANITIZE" ] || skip "memory is not measured under the sanitizers"
	cnn-load $SKIMAGE/astronaut.png > "$TMP/one.cnn"
	for i in $(seq 16); do cat "$TMP/one.cnn"; done > "$TMP/16.cnn"
	# 1280 records of 3x512x512 u8 (1 GB of tensors), through conv as f32.
	run bash -c "for i in \$(seq 80); do cat '$TMP/16.cnn'; done | /usr/bin/time -f '%M' cnn-conv -k identity --depthwise --clamp -z 1 2>'$TMP/rss' | cnn-info | head -1"
	[ "$output" = "1280 records" ]
	rss=$(tail -1 "$TMP/rss")
	echo "max RSS ${rss} KB"
	[ "$rss" -lt 102400 ]
}
