load helper

# An H x W text matrix of one value.
flat() {
	local v=$1 h=$2 w=$3
	for ((y = 0; y < h; y++)); do
		for ((x = 0; x < w; x++)); do printf '%s ' "$v"; done
		echo
	done
}

# A .npy file of dtype DESCR and SHAPE (a Python tuple) from the raw
# little-endian data on standard input.
npy() {
	local h="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
	local pad=$(((64 - (10 + ${#h} + 1) % 64) % 64))
	local len=$((${#h} + pad + 1))
	{
		printf '\x93NUMPY\x01\x00'
		printf "\\x$(printf %02x $((len % 256)))\\x$(printf %02x $((len / 256)))"
		printf '%s%*s\n' "$h" $pad ''
		cat
	} > "$1"
}

# Five gray 10 x 12 records of values 10, 20, .. 50.
five() {
	for v in 10 20 30 40 50; do flat $v 10 12 > "$TMP/r$v.txt"; done
	cnn-load --text "$TMP"/r[1-5]0.txt > "$TMP/five.cnn"
}

@test "five 10x12 tiles in 2 columns, gap 2: 26x34, tiles in reading order on white" {
	five
	run bash -c "cnn-montage -c 2 -o '$TMP/m.png' '$TMP/five.cnn' && cnn-load '$TMP/m.png' | cnn-info -r"
	[ "$status" -eq 0 ]
	[ "$output" = "1: image=u8 1x34x26" ]
	run bash -c "cnn-load '$TMP/m.png' | cnn-save -o -"
	[ "${#lines[@]}" -eq 34 ]
	[ "${lines[0]}" = "$(echo $(flat 10 1 12) 255 255 $(flat 20 1 12))" ]
	[ "${lines[9]}" = "${lines[0]}" ]
	# The gap between the rows of tiles, then the second row.
	[ "${lines[10]}" = "$(echo $(flat 255 1 26))" ]
	[ "${lines[11]}" = "${lines[10]}" ]
	[ "${lines[12]}" = "$(echo $(flat 30 1 12) 255 255 $(flat 40 1 12))" ]
	# The last row holds one tile; the rest of it is background.
	[ "${lines[33]}" = "$(echo $(flat 50 1 12) $(flat 255 1 14))" ]
}

@test "default columns, gap, background colour and tile size with centring" {
	five
	# ceil(sqrt(5)) = 3 columns, 2 rows; a gap of 0.
	run bash -c "cnn-montage -g 0 '$TMP/five.cnn' > '$TMP/m.png' && cnn-load '$TMP/m.png' | cnn-info -r"
	[ "$output" = "1: image=u8 1x20x36" ]
	# A coloured background makes the picture RGB.
	run bash -c "cnn-montage -c 5 -g 1 -B 0,0,200 '$TMP/five.cnn' > '$TMP/m.png' && cnn-load '$TMP/m.png' | cnn-save -o -"
	# (bats drops the blank lines between the planes)
	[ "${#lines[@]}" -eq 30 ]
	[ "${lines[0]}" = "$(echo $(flat 10 1 12) 0 $(flat 20 1 12) 0 $(flat 30 1 12) 0 $(flat 40 1 12) 0 $(flat 50 1 12))" ]
	[ "${lines[20]}" = "$(echo $(flat 10 1 12) 200 $(flat 20 1 12) 200 $(flat 30 1 12) 200 $(flat 40 1 12) 200 $(flat 50 1 12))" ]
	# 10x12 scaled to fit 6x8 is 6x7 (rounded), centred: the odd pixel left
	# over goes to the right.
	run bash -c "cnn-montage -n 1 -t 6x8 '$TMP/five.cnn' > '$TMP/m.png' && cnn-load '$TMP/m.png' | cnn-save -o -"
	[ "${#lines[@]}" -eq 6 ]
	[ "${lines[0]}" = "10 10 10 10 10 10 10 255" ]
	# Enlarged to fit 20x20: 17x20, centred vertically.
	run bash -c "cnn-montage -n 1 -t 20 '$TMP/five.cnn' > '$TMP/m.png' && cnn-load '$TMP/m.png' | cnn-save -o -"
	[ "${#lines[@]}" -eq 20 ]
	[ "${lines[0]}" = "$(echo $(flat 255 1 20))" ]
	[ "${lines[1]}" = "$(echo $(flat 10 1 20))" ]
	[ "${lines[17]}" = "${lines[1]}" ]
	[ "${lines[19]}" = "${lines[0]}" ]
}

@test "-n stops reading after N records: the rest may be endless or garbage" {
	five
	# Three good records, then zeros without end.
	run bash -c "cat '$TMP/five.cnn' /dev/zero | timeout 20 cnn-montage -n 3 -c 3 > '$TMP/m.png' &&
		cnn-load '$TMP/m.png' | cnn-info -r"
	[ "$status" -eq 0 ]
	[ "$output" = "1: image=u8 1x10x40" ]
	# The first 12 of Fashion-MNIST's 10000 test images, 28x28.
	run bash -c "cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-montage -n 12 -c 4 -g 1 -o '$TMP/f.png' &&
		cnn-load '$TMP/f.png' | cnn-info -r"
	[ "$status" -eq 0 ]
	[ "$output" = "1: image=u8 1x86x115" ]
	# The whole stream when it is shorter.
	run bash -c "cnn-montage -n 100 -c 1 -g 0 '$TMP/five.cnn' > '$TMP/m.png' && cnn-load '$TMP/m.png' | cnn-info -r"
	[ "$output" = "1: image=u8 1x50x12" ]
}

@test "labels: a caption band under each tile, in black on white, names with -N" {
	F="$FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz"
	# The first label is 9: "9" fits the 28-pixel column; 11 rows of caption.
	run bash -c "cnn-load $F | cnn-montage -n 1 -l > '$TMP/l.png' && cnn-load '$TMP/l.png' | cnn-info -r"
	[ "$output" = "1: image=u8 1x39x28" ]
	run bash -c "cnn-load $F | cnn-montage -n 1 > '$TMP/plain.png' && cnn-load '$TMP/l.png' | cnn-save -o - | head -28 > '$TMP/top.txt' &&
		cnn-load '$TMP/plain.png' | cnn-save -o - | cmp - '$TMP/top.txt'"
	[ "$status" -eq 0 ]
	# Letters below the tile: dark pixels in the band, none outside the text.
	run bash -c "cnn-load '$TMP/l.png' | cnn-save -o - | sed -n '29,39p' | tr ' ' '\n' | awk '\$1 < 128' | wc -l"
	[ "$output" -gt 5 ]
	run bash -c "cnn-load '$TMP/l.png' | cnn-save -o - | sed -n '29p;39p' | tr ' ' '\n' | sort -u"
	[ "$output" = "255" ]
	# "boot" with the names: 4 letters of 6 pixels, less 1, plus 2 of margin.
	run bash -c "cnn-load $F | cnn-montage -n 1 -l -N '$BATS_TEST_DIRNAME/../../examples/darknet/fashion.names' |
		cat > '$TMP/n.png' && cnn-load '$TMP/n.png' | cnn-info -r"
	[ "$output" = "1: image=u8 1x39x28" ]
	# Labels 9 2 1 1 as "boot pullover trouser trouser": columns widen to
	# "pullover", 8 x 6 - 1 + 2 = 49 pixels.
	run bash -c "cnn-load $F | cnn-montage -n 4 -c 4 -g 0 -l -N '$BATS_TEST_DIRNAME/../../examples/darknet/fashion.names' |
		cat > '$TMP/n.png' && cnn-load '$TMP/n.png' | cnn-info -r"
	[ "$output" = "1: image=u8 1x39x196" ]
}

@test "a soft label's caption is its best class and probability; --caption FIELD" {
	flat 60 4 6 | cnn-load --text - | cnn-save -o "$TMP/img.npy"
	# f32 (0.25, 0.625, 0.125): "1 0.62", 6 letters, 35 + 2 pixels wide.
	printf '\x00\x00\x80\x3e\x00\x00\x20\x3f\x00\x00\x00\x3e' | npy "$TMP/soft.npy" '<f4' '(1, 3)'
	run bash -c "cnn-load image='$TMP/img.npy' label='$TMP/soft.npy' | tee '$TMP/soft.cnn' | cnn-info -r"
	[ "$output" = "1: image=f32 1x4x6 label=f32 3" ]
	run bash -c "cnn-montage -l -o '$TMP/s.png' '$TMP/soft.cnn' && cnn-load '$TMP/s.png' | cnn-info -r"
	[ "$output" = "1: image=u8 1x15x37" ]
	# With names: "bb 0.62".
	printf 'a\nbb\nc\n' > "$TMP/names"
	run bash -c "cnn-montage -l -N '$TMP/names' -o '$TMP/s.png' '$TMP/soft.cnn' && cnn-load '$TMP/s.png' | cnn-info -r"
	[ "$output" = "1: image=u8 1x15x43" ]
	# A text field: the record's path from a CSV list ("a.png" is 29 + 2).
	flat 7 4 6 | cnn-load --text - | cnn-save -o "$TMP/a.png"
	printf 'path,label\na.png,3\n' > "$TMP/list.csv"
	run bash -c "cd '$TMP' && cnn-load -P --csv list.csv | cnn-montage --caption path > c.png && cnn-load c.png | cnn-info -r"
	[ "$status" -eq 0 ]
	[ "$output" = "1: image=u8 1x15x31" ]
}

@test "boxes and ground truth drawn as cnn-draw -T draws them" {
	flat 0 40 40 | cnn-load --text - | cnn-boxes --from csv -t <(printf '5,25,35,35,0.9,0\n') |
		cnn-boxes --from csv -f boxes_true -t <(printf '2,2,30,30,1,3\n') > "$TMP/b.cnn"
	run bash -c "cnn-montage -b '$TMP/b.cnn' > '$TMP/b.png' && cnn-load '$TMP/b.png' | cnn-save -o -"
	[ "$status" -eq 0 ]
	# RGB: 3 planes of 40 rows, blank lines between.
	[ "${#lines[@]}" -eq 120 ]
	[ "$(cnn-load "$TMP/b.png" | cnn-save -o -)" = "$(cnn-draw -T "$TMP/b.cnn" | cnn-save -o -)" ]
	# The bottom edge of the box in class 0's red, (235, 35, 35).
	[[ "$(cnn-load "$TMP/b.png" | cnn-save -o - | sed -n 35p)" == "0 0 0 0 0 235 235 "* ]]
	# Scaled with the image: 40x40 at 20x20 puts the box at 2.5..17.5 x
	# 12.5..17.5, its bottom edge on row 17.
	run bash -c "cnn-montage -b -t 20 '$TMP/b.cnn' > '$TMP/b.png' && cnn-load '$TMP/b.png' | cnn-save -o - | sed -n 18p"
	[[ "$output" == "0 0 0 235 235 235 "* ]]
	run bash -c "cnn-load $DARKNET/dog.jpg | cnn-montage -b > /dev/null"
	assert_error cnn-montage 'record 1: no tensor "boxes" or "boxes_true"$'
}

@test "a mask blended at 50% in the class colours, class 0 left clear" {
	printf '0 0 1 1\n0 2 2 1\n0 0 0 0\n3 3 0 0\n' | cnn-load --text - | cnn-save -o "$TMP/mask.png"
	cnn-load "$TMP/mask.png" | cnn-save -o "$TMP/mask.npy"
	flat 100 4 4 | cnn-load --text - | cnn-save -o "$TMP/img.npy"
	run bash -c "cnn-load image='$TMP/img.npy' mask='$TMP/mask.npy' | cnn-montage -m > '$TMP/m.png' &&
		cnn-load '$TMP/m.png' | cnn-save -o -"
	[ "$status" -eq 0 ]
	# Class 1 is (9, 57, 175): (100 + 9 + 1) / 2 = 55 in red.
	[ "${lines[0]}" = "100 100 55 55" ]
	[ "${lines[2]}" = "100 100 100 100" ]
	[ "${lines[4]}" = "100 100 79 79" ]
	[ "${lines[8]}" = "100 100 138 138" ]
	# Scaled with the image (nearest), to 8x8.
	run bash -c "cnn-load image='$TMP/img.npy' mask='$TMP/mask.npy' | cnn-montage -m -t 8x8 > '$TMP/m.png' &&
		cnn-load '$TMP/m.png' | cnn-save -o - | head -1"
	[ "$output" = "100 100 100 100 55 55 55 55" ]
	# An f32 mask is not classes.
	run bash -c "cnn-load image='$TMP/img.npy' mask='$TMP/img.npy' | cnn-montage -m > /dev/null"
	assert_error cnn-montage 'record 1: tensor "mask" is f32 1x4x4; want a class per pixel'
	run bash -c "cnn-load image='$TMP/img.npy' | cnn-montage -m > /dev/null"
	assert_error cnn-montage 'record 1: no tensor "mask"$'
}

@test "f32 images: 0..255 kept, normalised ones stretched to their min..max, or --range" {
	# -1, 0 and 1: min..max maps them to 0, 127.5 (128) and 255.
	printf -- '-1 0 1\n' | cnn-load --text - > "$TMP/n.cnn"
	run bash -c "cnn-montage '$TMP/n.cnn' > '$TMP/n.png' && cnn-load '$TMP/n.png' | cnn-save -o -"
	[ "$output" = "0 128 255" ]
	run bash -c "cnn-montage --range -2:2 '$TMP/n.cnn' > '$TMP/n.png' && cnn-load '$TMP/n.png' | cnn-save -o -"
	[ "$output" = "64 128 191" ]
	# Values within 0..255 are taken as they are, out of --range clamped.
	printf '3 0 200\n' | cnn-load --text - > "$TMP/p.cnn"
	run bash -c "cnn-montage '$TMP/p.cnn' > '$TMP/p.png' && cnn-load '$TMP/p.png' | cnn-save -o -"
	[ "$output" = "3 0 200" ]
	run bash -c "cnn-montage --range 0:100 '$TMP/p.cnn' > '$TMP/p.png' && cnn-load '$TMP/p.png' | cnn-save -o -"
	[ "$output" = "8 0 255" ]
	# A Sobel gradient of a photo (-860..851, mean about 0) comes out gray
	# where it is flat, not black.
	run bash -c "cnn-load -c 1 $SKIMAGE/camera.png | cnn-conv -k sobel-x |
		cnn-montage -t 64x64 > '$TMP/s.png' && cnn-load '$TMP/s.png' | cnn-info"
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" =~ image\ +u8\ +1x64x64\ +min\ [0-9]+\ max\ [0-9]+\ mean\ 12[0-9] ]]
}

@test "alpha dropped, gray and RGB together make RGB, JPEG by name" {
	run bash -c "(cnn-load -c 2 $SKIMAGE/camera.png; cnn-load -c 4 $SKIMAGE/chelsea.png) |
		cnn-montage -c 2 -t 32x32 -o '$TMP/m.jpg' && cnn-load '$TMP/m.jpg' | cnn-info -r"
	[ "$status" -eq 0 ]
	[ "$output" = "1: image=u8 3x32x66" ]
	run bash -c "cnn-load $SKIMAGE/astronaut.png | cnn-montage -o '$TMP/a.png' && cnn-load '$TMP/a.png' | cnn-info -r"
	[ "$output" = "1: image=u8 3x256x256" ]
}

@test "bad input: not an image, no image, no label, a bad label, empty input" {
	run bash -c "(for c in 1 2 3 4 5; do echo 1 2; echo; done) | cnn-load --text - | cnn-montage > /dev/null"
	assert_error cnn-montage '^cnn-montage: <stdin> record 1: tensor "image" is f32 5x1x2; want an image, C x H x W with C 1..4$'
	five
	run bash -c "cnn-montage -f picture '$TMP/five.cnn' > /dev/null"
	assert_error cnn-montage 'five.cnn record 1: no tensor "picture"$'
	run bash -c "cnn-montage -l '$TMP/five.cnn' > /dev/null"
	assert_error cnn-montage 'five.cnn record 1: no tensor "label"$'
	run bash -c "cnn-montage --caption image '$TMP/five.cnn' > /dev/null"
	assert_error cnn-montage 'record 1: tensor "image" is f32 1x10x12; want a class, class probabilities or text$'
	run bash -c "cnn-montage -o '$TMP/e.png' < /dev/null"
	assert_error cnn-montage '<stdin>: empty input \(no records\)$'
	[ ! -e "$TMP/e.png" ]
}

@test "no picture to a terminal; usage errors exit 2" {
	five
	if command -v script >/dev/null; then
		run script -qec "cnn-montage '$TMP/five.cnn'" /dev/null
		[ "$status" -eq 1 ]
		[[ "$output" == *"cnn-montage: will not write a picture to a terminal"* ]]
	fi
	for args in "-n 0" "-c 0" "-c x" "-t 0x5" "-t 5x5x5" "-g -1" "-B 1,2" "-B 256" \
		"--range 3:1" "--range 3" "--range a:b" "-o m.gif" "--bogus"; do
		run cnn-montage $args "$TMP/five.cnn"
		[ "$status" -eq 2 ] || { echo "$args: status $status"; false; }
	done
	run cnn-montage -N "$TMP/none.names" "$TMP/five.cnn"
	[ "$status" -eq 1 ]
}

@test "--captions FILE: tile N captioned with line N" {
	printf 'first\nsecond\n' > "$TMP/captions"
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-head -n 3 > "$TMP/three.cnn"
	cnn-montage -c 3 -o "$TMP/plain.png" "$TMP/three.cnn"
	cnn-montage -c 3 --captions "$TMP/captions" -o "$TMP/cap.png" "$TMP/three.cnn"
	run bash -c "cnn-load '$TMP/plain.png' '$TMP/cap.png' | cnn-info -r"
	[ "$status" -eq 0 ]
	# the captions add a band under the tiles
	[[ "${lines[0]}" == "1: image=u8 1x28x"* ]]
	[[ "${lines[1]}" != "2: image=u8 1x28x"* ]]
	run cnn-montage --captions "$TMP/missing" -o "$TMP/x.png" "$TMP/three.cnn"
	[ "$status" -eq 1 ]
}
