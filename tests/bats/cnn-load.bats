load helper

@test "a real RGB photo loads as u8 3 x H x W" {
	run bash -c "cnn-load $SKIMAGE/astronaut.png | cnn-info -r"
	[ "$status" -eq 0 ]
	[ "$output" = "1: image=u8 3x512x512" ]
}

@test "gray, palette and 16-bit PNGs; channel conversion and resize" {
	run bash -c "cnn-load $SKIMAGE/camera.png $SKIMAGE/palette_color.png | cnn-info -r"
	[[ "${lines[0]}" == "1: image=u8 1x512x512" ]]
	[[ "${lines[1]}" == "2: image=u8 3x"* ]]
	run bash -c "cnn-load -c 3 -r 32x48 $SKIMAGE/camera.png | cnn-info -r"
	[ "$output" = "1: image=u8 3x32x48" ]
	run bash -c "cnn-load -c 1 -r 28 $DARKNET/dog.jpg | cnn-info -r"
	[ "$output" = "1: image=u8 1x28x28" ]
}

@test "JPEG photos load" {
	run bash -c "cnn-load $DARKNET/dog.jpg $DARKNET/horses.jpg | cnn-info"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "2 records" ]
}

@test "Fashion-MNIST test set: 10000 records, labels 0..9" {
	run bash -c "cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz | cnn-info"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "10000 records" ]
	[[ "${lines[1]}" =~ image\ +u8\ +1x28x28\ +min\ 0\ max\ 255 ]]
	[[ "${lines[2]}" =~ label\ +i32\ +scalar\ +min\ 0\ max\ 9\ mean\ 4.5 ]]
}

@test "folders name the classes; the class list is saved" {
	mkdir -p "$TMP/data/cat" "$TMP/data/dog"
	cp $SKIMAGE/chelsea.png "$TMP/data/cat/1.png"
	cp $SKIMAGE/coffee.png "$TMP/data/cat/2.png"
	cp $DARKNET/dog.jpg "$TMP/data/dog/a.jpg"
	run bash -c "cnn-load -r 16 --save-classes '$TMP/classes.txt' '$TMP/data' | cnn-info -r"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1: image=u8 3x16x16 label=i32 scalar(0)" ]
	[ "${lines[2]}" = "3: image=u8 3x16x16 label=i32 scalar(1)" ]
	[ "$(cat "$TMP/classes.txt")" = "$(printf 'cat\ndog')" ]
	printf 'dog\ncat\n' > "$TMP/given.txt"
	run bash -c "cnn-load -r 16 --classes '$TMP/given.txt' '$TMP/data' | cnn-info -r"
	[ "${lines[0]}" = "1: image=u8 3x16x16 label=i32 scalar(1)" ]
}

@test "a CSV of path,label with class names" {
	cp $SKIMAGE/chelsea.png $SKIMAGE/camera.png "$TMP/"
	printf 'path,label\nchelsea.png,cat\ncamera.png,man\n' > "$TMP/list.csv"
	run bash -c "cnn-load -r 8 -P --csv '$TMP/list.csv' | cnn-info -r"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "1: image=u8 3x8x8 label=i32 scalar(0) path=text "* ]]
	[[ "${lines[1]}" == "2: image=u8 1x8x8 label=i32 scalar(1) path=text "* ]]
}

@test ".npy arrays in, zipped and named" {
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-head -n 5 | cnn-save -o "$TMP/x.npy"
	run bash -c "cnn-load x='$TMP/x.npy' | cnn-info"
	[ "${lines[0]}" = "5 records" ]
	[[ "${lines[1]}" =~ x\ +u8\ +1x28x28 ]]
}

@test "text matrices: rows, and channels split by blank lines" {
	run bash -c "printf '1 2 3\n4 5 6\n\n7 8 9\n1 2 3\n' | cnn-load --text - | cnn-info -r"
	[ "$output" = "1: image=f32 2x2x3" ]
}

@test "a corrupt PNG is one clear error" {
	cp $SKIMAGE/camera.png "$TMP/bad.png"
	printf 'XXXXXXXX' | dd of="$TMP/bad.png" bs=1 seek=2000 conv=notrunc 2>/dev/null
	run bash -c "cnn-load '$TMP/bad.png' > /dev/null"
	assert_error cnn-load "bad.png"
}

@test "a JPEG cut in half is one clear error" {
	head -c 80000 $DARKNET/dog.jpg > "$TMP/cut.jpg"
	run bash -c "cnn-load '$TMP/cut.jpg' > /dev/null"
	assert_error cnn-load "cut.jpg"
}

@test "random bytes, a missing file, an empty file" {
	head -c 3000 /dev/urandom > "$TMP/junk.png"
	run bash -c "cnn-load '$TMP/junk.png' > /dev/null"
	assert_error cnn-load "junk.png"
	run bash -c "cnn-load '$TMP/nope.png' > /dev/null"
	assert_error cnn-load "nope.png: No such file"
	: > "$TMP/empty.png"
	run bash -c "cnn-load '$TMP/empty.png' > /dev/null"
	assert_error cnn-load "empty.png"
}

@test "a truncated IDX file names the item" {
	gzip -dc $FASHION/t10k-labels-idx1-ubyte.gz | head -c 5000 > "$TMP/labels.idx"
	run bash -c "cnn-load '$TMP/labels.idx' > /dev/null"
	[ "$status" -eq 1 ]
	[[ "$output" == *"labels.idx"*"truncated"* ]]
}

@test "arrays of different lengths are refused" {
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-head -n 5 | cnn-save -o "$TMP/x.npy"
	run bash -c "cnn-load '$TMP/x.npy' $FASHION/t10k-labels-idx1-ubyte.gz > /dev/null"
	assert_error cnn-load "has 10000 items but .*x.npy has 5"
}

@test "no binary to a terminal; usage errors exit 2" {
	run cnn-load
	[ "$status" -eq 2 ]
	run cnn-load -c 5 x.png
	[ "$status" -eq 2 ]
	run cnn-load -r 0 x.png
	[ "$status" -eq 2 ]
	if command -v script >/dev/null; then
		run script -qec "cnn-load $SKIMAGE/camera.png" /dev/null
		[[ "$output" == *"will not write a binary stream to a terminal"* ]]
	fi
}

@test "several folders and a list agree on the labels" {
	mkdir -p "$TMP/a/zebra" "$TMP/b/ant"
	cp $SKIMAGE/chelsea.png "$TMP/a/zebra/1.png"
	cp $SKIMAGE/coffee.png "$TMP/b/ant/2.png"
	run bash -c "cnn-load -r 4 --save-classes '$TMP/c.txt' '$TMP/a/' '$TMP/b' | cnn-save -f label -o - | grep -v '^\$'"
	[ "$output" = "$(printf '1\n0')" ]
	[ "$(cat "$TMP/c.txt")" = "$(printf 'ant\nzebra')" ]
}

@test "--whole arrays need distinct names" {
	cnn-load $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 3 | cnn-save -f label -o "$TMP/l.npy"
	run bash -c "cnn-load -w '$TMP/l.npy' '$TMP/l.npy' > /dev/null"
	assert_error cnn-load 'field "data" given twice'
	run bash -c "cnn-load -w a='$TMP/l.npy' b='$TMP/l.npy' | cnn-info -r"
	[ "$output" = "1: a=i32 3 b=i32 3" ]
}

@test "text matrices: channels of different heights and bad numbers are refused" {
	run bash -c "printf '1 2\n\n3 4\n5 6\n' | cnn-load --text - > /dev/null"
	assert_error cnn-load 'line 5: a channel of 2 rows after channels of 1'
	run bash -c "printf '# a comment\n1 2\n1 x\n' | cnn-load --text - > /dev/null"
	assert_error cnn-load '<stdin>: line 3: not a number'
	run bash -c "printf '1 1e39\n' | cnn-load --text - > /dev/null"
	assert_error cnn-load '<stdin>: line 1: 1e39 does not fit a 32-bit float$'
}

@test "Fashion-MNIST training set: 60000 records" {
	run bash -c "cnn-load $FASHION/train-images-idx3-ubyte.gz $FASHION/train-labels-idx1-ubyte.gz | cnn-info"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "60000 records" ]
	[[ "${lines[2]}" =~ label\ +i32\ +scalar\ +min\ 0\ max\ 9 ]]
}

@test "labels are whole numbers that fit, never rounded or clamped" {
	npy '<f4' '(2,)' '\000\000\000\000\232\231\331\077' > "$TMP/frac.npy"
	run cnn-load -o /dev/null "$TMP/frac.npy"
	assert_error cnn-load 'frac.npy item 1: label 1.7 is not a whole number'
	npy '<f4' '(1,)' '\000\000\300\177' > "$TMP/nan.npy"
	run cnn-load -o /dev/null "$TMP/nan.npy"
	assert_error cnn-load 'nan.npy item 0: label nan is not a whole number'
	npy '<i8' '(1,)' '\000\000\000\000\000\001\000\000' > "$TMP/big.npy"
	run cnn-load -o /dev/null "$TMP/big.npy"
	assert_error cnn-load 'big.npy item 0: label 1.09951e\+12 does not fit a 32-bit class number'
	# Named, the field is kept as it is.
	run bash -c "cnn-load score='$TMP/frac.npy' | cnn-info"
	[[ "${lines[1]}" =~ score\ +f32\ +scalar\ +min\ 0\ max\ 1.7 ]]
	mkdir "$TMP/csv"
	cp "$DARKNET/dog.jpg" "$TMP/csv/a.jpg"
	printf 'a.jpg,1\na.jpg,1.7\n' > "$TMP/csv/list.csv"
	run cnn-load -o /dev/null --csv "$TMP/csv/list.csv"
	assert_error cnn-load 'list.csv: line 2: label 1.7 is not a class number'
}

@test "NaN and infinite values are refused unless let through" {
	npy '<f4' '(1, 2, 2)' '\000\000\000\000\000\000\300\177\000\000\000\000\000\000\000\000' > "$TMP/img.npy"
	run cnn-load -o /dev/null "$TMP/img.npy"
	assert_error cnn-load 'img.npy item 0: tensor "image" holds nan at index 1 \(--allow-nonfinite'
	run bash -c "printf '1 inf\n' | cnn-load -o /dev/null --text -"
	assert_error cnn-load '<stdin>: tensor "image" holds inf at index 1'
	run bash -c "cnn-load --allow-nonfinite '$TMP/img.npy' | cnn-info"
	[[ "${lines[1]}" == *"min 0 max 0 mean 0 nan 1" ]]
}

@test "an empty class folder is an error, unless --classes numbers the classes" {
	mkdir -p "$TMP/tree/a" "$TMP/tree/b" "$TMP/tree/c"
	cp "$DARKNET/dog.jpg" "$TMP/tree/a/"
	cp "$DARKNET/dog.jpg" "$TMP/tree/c/"
	run cnn-load -o /dev/null "$TMP/tree"
	assert_error cnn-load 'tree/b: a class folder with no PNG or JPEG files'
	printf 'a\nb\nc\n' > "$TMP/classes"
	run bash -c "cnn-load --classes '$TMP/classes' '$TMP/tree' | cnn-save -f label -o -"
	[ "$output" = "$(printf '0\n\n2')" ]
}

# A darknet data set: images/NNNN.png with labels/NNNN.txt, a list of them,
# class names; made from a record of two boxes.
darknet_set() {
	mkdir -p "$TMP/set/images" "$TMP/set/labels"
	awk 'BEGIN { for (y = 0; y < 40; y++) { for (x = 0; x < 80; x++) printf "%d ", (x + y) % 256; print "" } }' |
		cnn-load --text - | cnn-save -o "$TMP/set/images/0000.png"
	cp "$TMP/set/images/0000.png" "$TMP/set/images/0001.png"
	printf '1 0.25 0.5 0.25 0.5\n0 0.75 0.25 0.5 0.5\n' > "$TMP/set/labels/0000.txt"
	printf 'images/0000.png\nimages/0001.png\n' > "$TMP/set/train.txt"
	printf 'cat\ndog\n' > "$TMP/set/names"
}

@test "--labels --list: a darknet data set, boxes_true in pixels; an image without labels is background, said once" {
	darknet_set
	run sh -c "cnn-load -L --list '$TMP/set/train.txt' --classes '$TMP/set/names' 2>'$TMP/err' | cnn-boxes --to csv -f boxes_true"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "1,10,10,30,30,1,1" ]
	[ "${lines[2]}" = "1,40,0,80,20,1,0" ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(cat "$TMP/err")" = "cnn-load: 1 of 2 images have no label file and are background (the first: $TMP/set/images/0001.png)" ]
	# The .txt beside an image serves too (AlexeyAB's layout).
	cp "$TMP/set/images/0000.png" "$TMP/x.png"
	cp "$TMP/set/labels/0000.txt" "$TMP/x.txt"
	run sh -c "cnn-load -L '$TMP/x.png' | cnn-boxes --to csv -f boxes_true | wc -l"
	[ "$output" -eq 3 ]
}

@test "--labels with -r: the boxes follow a stretch, or darknet's letterbox" {
	darknet_set
	run sh -c "cnn-load -L -r 80x80 '$TMP/set/images/0000.png' | cnn-boxes --to csv -f boxes_true"
	[ "${lines[1]}" = "1,10,20,30,60,1,1" ]
	run sh -c "cnn-load -L -r 80x80 --letterbox '$TMP/set/images/0000.png' | cnn-info"
	[[ "$output" == *"image "*"f32   1x80x80"* ]]
	run sh -c "cnn-load -L -r 80x80 --letterbox '$TMP/set/images/0000.png' | cnn-boxes --to csv -f boxes_true"
	[ "${lines[1]}" = "1,10,30,30,50,1,1" ]
	run cnn-load --letterbox "$TMP/set/images/0000.png"
	[ "$status" -eq 2 ]
}

@test "darknet's label mistakes: a class past the names, a box not relative to the image; file and line, exit 1" {
	darknet_set
	printf '0 0.5 0.5 0.1 0.1\n2 0.5 0.5 0.1 0.1\n' > "$TMP/set/labels/0001.txt"
	run cnn-load -L --list "$TMP/set/train.txt" --classes "$TMP/set/names" -o "$TMP/o.cnn"
	assert_error cnn-load "labels/0001.txt:2: class 2, and the names have 2 \(0 to 1\)$"
	printf '0 0.5 0.5 12 0.1\n' > "$TMP/set/labels/0001.txt"
	run cnn-load -L --list "$TMP/set/train.txt" -o "$TMP/o.cnn"
	assert_error cnn-load "labels/0001.txt:1: w 12 \(darknet's labels are relative to the image: 0 < w, h <= 1\)$"
	printf '0.5 0.5 0.5 0.1 0.1\n' > "$TMP/set/labels/0001.txt"
	run cnn-load -L --list "$TMP/set/train.txt" -o "$TMP/o.cnn"
	assert_error cnn-load "labels/0001.txt:1: the class is not a whole number from 0: "
}

# Masks from a folder by name (VOC's JPEGImages/x.jpg beside
# SegmentationClass/x.png), or from a CSV: the palette PNG's indices as
# "mask", the classes as they were; -r resizes them by the nearest pixel.
masks_made() {
	cnn-load "$FASHION/t10k-images-idx3-ubyte.gz" "$FASHION/t10k-labels-idx1-ubyte.gz" | cnn-head -n 20 |
		cnn-compose -B "$SKIMAGE/brick.png" -t 16 -n 2 -S 3 -o "$TMP/c.cnn"
	mkdir -p "$TMP/JPEGImages" "$TMP/SegmentationClass"
	cnn-save -o "$TMP/JPEGImages/x%d.png" "$TMP/c.cnn"
	cnn-save -f mask -o "$TMP/SegmentationClass/x%d.png" "$TMP/c.cnn"
}

@test "cnn-load --masks DIR|CSV: each image's palette-PNG mask as its classes; -r resizes it nearest" {
	masks_made
	file "$TMP/SegmentationClass/x0.png" | grep -q colormap
	cnn-save -f mask -o - "$TMP/c.cnn" > "$TMP/want.txt"
	cnn-load -M "$TMP/SegmentationClass" "$TMP/JPEGImages" | cnn-save -f mask -o - > "$TMP/dir.txt"
	cmp "$TMP/want.txt" "$TMP/dir.txt"
	printf 'image,mask\nJPEGImages/x0.png,SegmentationClass/x0.png\nJPEGImages/x1.png,SegmentationClass/x1.png\n' > "$TMP/pairs.csv"
	cnn-load -M "$TMP/pairs.csv" "$TMP/JPEGImages/x0.png" "$TMP/JPEGImages/x1.png" | cnn-save -f mask -o - > "$TMP/csv.txt"
	cmp "$TMP/want.txt" "$TMP/csv.txt"
	run cnn-load -M "$TMP/SegmentationClass" -r 48 "$TMP/JPEGImages/x0.png"
	[ "$status" -eq 0 ]
	cnn-load -M "$TMP/SegmentationClass" -r 48 "$TMP/JPEGImages/x0.png" | cnn-info > "$TMP/info"
	cat "$TMP/info"
	grep -q 'mask  *u8  *48x48 ' "$TMP/info"
	# Every other pixel of every other row: 96 to 48 by the nearest centre.
	cnn-load -M "$TMP/SegmentationClass" -r 48 "$TMP/JPEGImages/x0.png" | cnn-save -f mask -o - > "$TMP/half.txt"
	head -n 96 "$TMP/want.txt" | awk 'NR % 2 == 0 { for (j = 2; j <= NF; j += 2) printf "%s%s", $j, j < NF ? " " : "\n" }' > "$TMP/every-other.txt"
	cmp "$TMP/every-other.txt" "$TMP/half.txt"
}

@test "cnn-load --masks: a missing mask, one of another size, an RGB one, a letterbox: one line each" {
	masks_made
	rm "$TMP/SegmentationClass/x1.png"
	run cnn-load -M "$TMP/SegmentationClass" "$TMP/JPEGImages/x1.png"
	assert_error cnn-load 'x1.png: .*SegmentationClass/x1.png: No such file or directory'
	mkdir "$TMP/rgb"
	cnn-load -c 3 "$TMP/JPEGImages/x0.png" | cnn-save -o "$TMP/rgb/x0.png"
	run cnn-load -M "$TMP/rgb" "$TMP/JPEGImages/x0.png"
	assert_error cnn-load 'an RGB PNG; a mask is a palette or gray PNG, its values the classes'
	cnn-load -c 1 -r 40 "$TMP/JPEGImages/x0.png" | cnn-save -o "$TMP/SegmentationClass/x1.png"
	run cnn-load -M "$TMP/SegmentationClass" "$TMP/JPEGImages/x1.png"
	assert_error cnn-load 'x1.png: its mask .*x1.png is 40x40, the image 96x96'
	run cnn-load -M "$TMP/SegmentationClass" -r 48 --letterbox "$TMP/JPEGImages/x0.png"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--letterbox pads the images with gray, which is no class"* ]]
}
