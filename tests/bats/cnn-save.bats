load helper

@test "one record to a PNG, and back again unchanged" {
	cnn-load $SKIMAGE/astronaut.png > "$TMP/a.cnn"
	run cnn-save -o "$TMP/out.png" "$TMP/a.cnn"
	[ "$status" -eq 0 ]
	cnn-load "$TMP/out.png" > "$TMP/b.cnn"
	run bash -c "cnn-save -o - '$TMP/a.cnn' | md5sum; cnn-save -o - '$TMP/b.cnn' | md5sum"
	[ "${lines[0]}" = "${lines[1]}" ]
}

@test "numbered files, one per record" {
	run bash -c "cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-head -n 3 | cnn-save -o '$TMP/f-%03d.png' -n 1"
	[ "$status" -eq 0 ]
	[ -s "$TMP/f-001.png" ] && [ -s "$TMP/f-003.png" ] && [ ! -e "$TMP/f-004.png" ]
	run bash -c "cnn-load '$TMP/f-002.png' | cnn-info -r"
	[ "$output" = "1: image=u8 1x28x28" ]
}

@test "JPEG output" {
	run bash -c "cnn-load $SKIMAGE/chelsea.png | cnn-save -q 80 -o '$TMP/c.jpg' && cnn-load '$TMP/c.jpg' | cnn-info -r"
	[ "$status" -eq 0 ]
	[ "$output" = "1: image=u8 3x300x451" ]
}

@test "one .npy array of all records" {
	run bash -c "cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-head -n 7 | cnn-save -o '$TMP/x.npy'"
	[ "$status" -eq 0 ]
	# 128-byte header for a v1.0 .npy padded to 64, then 7*784 bytes.
	[ "$(head -c 6 "$TMP/x.npy" | od -An -c | tr -d ' ')" = "223NUMPY" ]
	run bash -c "cnn-load --whole '$TMP/x.npy' | cnn-info -r"
	[ "$output" = "1: data=u8 7x1x28x28" ]
}

@test "labels as text" {
	run bash -c "cnn-load $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 4 | cnn-save -f label -o -"
	[ "$output" = "$(printf '9\n\n2\n\n1\n\n1')" ]
}

@test "a second record for a single file name is an error, the first is kept" {
	run bash -c "cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-head -n 2 | cnn-save -o '$TMP/one.png'"
	assert_error cnn-save 'record 2: a second record'
	[ -s "$TMP/one.png" ]
}

@test "images with more than 4 channels, npy to a pipe, bad names" {
	run bash -c "printf '1\n\n2\n\n3\n\n4\n\n5\n' | cnn-load --text - | cnn-save -o '$TMP/x.png'"
	assert_error cnn-save 'record 1: .*5'
	mkfifo "$TMP/pipe.npy"
	cat "$TMP/pipe.npy" > /dev/null &
	run bash -c "cnn-load $SKIMAGE/camera.png | cnn-save -o '$TMP/pipe.npy'"
	assert_error cnn-save 'pipe.npy'
	wait
	run cnn-save -o x.gif
	[ "$status" -eq 2 ]
	run cnn-save -o 'x-%s.png'
	[ "$status" -eq 2 ]
	run cnn-save
	[ "$status" -eq 2 ]
}

@test "empty input is an error" {
	run bash -c "cnn-save -o - < /dev/null"
	assert_error cnn-save 'empty input'
}

@test "a mask goes to a palette PNG in VOC's colours; to a JPEG it is refused" {
	cnn-load "$FASHION/t10k-images-idx3-ubyte.gz" "$FASHION/t10k-labels-idx1-ubyte.gz" | cnn-head -n 20 |
		cnn-compose -B "$SKIMAGE/brick.png" -t 16 -n 1 -S 3 -o "$TMP/c.cnn"
	cnn-save -f mask -o "$TMP/m.png" "$TMP/c.cnn"
	file "$TMP/m.png" | grep -q '96 x 96, 8-bit colormap'
	# As a picture: class k in VOC's colour (class 1 is 128,0,0).
	cnn-load "$TMP/m.png" | cnn-info | grep -q 'image  *u8  *3x96x96'
	run cnn-save -f mask -o "$TMP/m.jpg" "$TMP/c.cnn"
	assert_error cnn-save 'm.jpg: tensor "mask" is a mask: its classes go to a PNG file'
	[ ! -e "$TMP/m.jpg" ]
}
