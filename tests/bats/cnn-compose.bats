load helper

# Three known objects, 6 x 8 u8 with labels: class 4 a solid block of 60
# (48 pixels), class 7 a 4 x 5 block of 120 inside a blank border (20),
# class 9 a cross of 180 (24); in $TMP/objects.cnn.  And a black photo.
make_objects() {
	awk 'BEGIN { for (k = 0; k < 3; k++) for (y = 0; y < 6; y++) for (x = 0; x < 8; x++) {
		on = k == 0 || (k == 1 && y >= 1 && y < 5 && x >= 2 && x < 7) ||
		     (k == 2 && ((x >= 3 && x < 5) || (y >= 2 && y < 4)))
		printf "\\%03o", on ? 60 * (k + 1) : 0 } }' > "$TMP/bytes"
	npy '|u1' '(3, 6, 8)' "$(cat "$TMP/bytes")" > "$TMP/img.npy"
	npy '<i4' '(3,)' '\004\000\000\000\007\000\000\000\011\000\000\000' > "$TMP/lab.npy"
	cnn-load image="$TMP/img.npy" label="$TMP/lab.npy" > "$TMP/objects.cnn"
	awk 'BEGIN { for (y = 0; y < 40; y++) { s = ""; for (x = 0; x < 40; x++) s = s "0 "; print s } }' |
		cnn-load --text - | cnn-save -o "$TMP/black.png"
}

# The truth of a composed stream, checked pixel for pixel against its
# instances: each box is exactly the box of its instance's pixels, the
# mask is the box's class + 1 there and 0 off every instance, and (with
# $2 = gray) each object's pixels hold its own value, 60 x (k + 1) for the
# k-th class of make_objects.  Prints "records R boxes N bad B iou I
# fewest F", I the largest IoU of two boxes of an image, F the smallest
# visible part of a known object (gray only).
truth_of() {
	cnn-save -f instances -o "$TMP/inst.txt" < "$1"
	cnn-save -f mask -o "$TMP/mask.txt" < "$1"
	cnn-boxes --to csv -f boxes_true < "$1" | tail -n +2 > "$TMP/boxes.csv"
	if [ "$2" = gray ]; then cnn-save -o "$TMP/img.txt" < "$1"; else : > "$TMP/img.txt"; fi
	awk -F, -v gray="$2" -v inst="$TMP/inst.txt" -v mask="$TMP/mask.txt" -v img="$TMP/img.txt" '
	function rows(file, name,   r, y, line, n, x, a) {
		r = 1; y = 0
		while ((getline line < file) > 0) {
			if (line == "") { if (y) { r++; y = 0 } continue }
			n = split(line, a, " ")
			for (x = 1; x <= n; x++) V[name, r, y, x - 1] = a[x]
			W = n; y++; H = y
		}
		return r - (y == 0)
	}
	BEGIN {
		value[4] = 60; value[7] = 120; value[9] = 180
		full[4] = 48; full[7] = 20; full[9] = 24
	}
	{ n[$1]++; b[$1, n[$1]] = $2 " " $3 " " $4 " " $5 " " $6 " " $7; boxes++ }
	END {
		R = rows(inst, "inst"); rows(mask, "mask"); if (gray) rows(img, "img")
		fewest = 1
		for (r = 1; r <= R; r++) {
			delete x1; delete y1; delete x2; delete y2; delete cnt
			for (y = 0; y < H; y++) for (x = 0; x < W; x++) {
				i = V["inst", r, y, x]; m = V["mask", r, y, x]
				if (i == 0) { if (m != 0 || (gray && V["img", r, y, x] != 0)) bad++; continue }
				if (i > n[r]) { bad++; continue }
				split(b[r, i], f, " ")
				if (m != f[6] + 1 || (gray && V["img", r, y, x] != value[f[6]])) bad++
				if (!(i in cnt)) { x1[i] = x; y1[i] = y; x2[i] = x + 1; y2[i] = y + 1 }
				cnt[i]++
				if (x < x1[i]) x1[i] = x; if (y < y1[i]) y1[i] = y
				if (x + 1 > x2[i]) x2[i] = x + 1; if (y + 1 > y2[i]) y2[i] = y + 1
			}
			for (i = 1; i <= n[r]; i++) {
				split(b[r, i], f, " ")
				if (!(i in cnt) || f[1] != x1[i] || f[2] != y1[i] || f[3] != x2[i] ||
				    f[4] != y2[i] || f[5] != 1) bad++
				if (gray && cnt[i] / full[f[6]] < fewest) fewest = cnt[i] / full[f[6]]
				for (j = 1; j < i; j++) {
					split(b[r, j], g, " ")
					iw = (f[3] < g[3] ? f[3] : g[3]) - (f[1] > g[1] ? f[1] : g[1])
					ih = (f[4] < g[4] ? f[4] : g[4]) - (f[2] > g[2] ? f[2] : g[2])
					inter = iw > 0 && ih > 0 ? iw * ih : 0
					u = (f[3] - f[1]) * (f[4] - f[2]) + (g[3] - g[1]) * (g[4] - g[2]) - inter
					if (inter / u > iou) iou = inter / u
				}
			}
		}
		printf "records %d boxes %d bad %d iou %.3f fewest %.2f\n", R, boxes, bad, iou, fewest
	}' "$TMP/boxes.csv"
}

@test "known objects: every pixel, box, mask value and class agrees; the limits hold" {
	make_objects
	cnn-compose -B "$TMP/black.png" -c 1 -s 40x40 --object-scale 1 -k 1:6 --instances \
		-n 40 "$TMP/objects.cnn" > "$TMP/c.cnn"
	run truth_of "$TMP/c.cnn" gray
	echo "$output"
	[[ "$output" =~ ^records\ 40\ boxes\ [0-9]+\ bad\ 0\ iou\ 0\.([0-2][0-9][0-9]|300)\ fewest\ 0\.[5-9] ]]
	# objects at their own size: class 7's box is its 5 x 4 block
	run bash -c "cnn-boxes --to csv -f boxes_true '$TMP/c.cnn' | awk -F, '\$7 == 7 && (\$4 - \$2 > 5 || \$5 - \$3 > 4)' | wc -l"
	[ "$output" -eq 0 ]
	# tighter limits, many objects
	cnn-compose -B "$TMP/black.png" -c 1 -s 40x40 --object-scale 1:2 -k 8 --instances \
		--max-iou 0.1 --min-visible 0.8 -n 30 "$TMP/objects.cnn" > "$TMP/d.cnn"
	run truth_of "$TMP/d.cnn"
	echo "$output"
	[[ "$output" =~ ^records\ 30\ boxes\ [0-9]+\ bad\ 0\ iou\ 0\.(0[0-9][0-9]|100)\  ]]
}

@test "Fashion-MNIST on brick, grass and gravel: boxes, mask and instances agree pixel for pixel" {
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 500 > "$TMP/fm.cnn"
	cnn-compose -B $SKIMAGE/brick.png -B $SKIMAGE/grass.png -B $SKIMAGE/gravel.png --instances \
		-k 2:6 --tint 0.5 -n 20 "$TMP/fm.cnn" > "$TMP/c.cnn"
	run cnn-info "$TMP/c.cnn"
	[ "${lines[0]}" = "20 records" ]
	[[ "${lines[1]}" == "  image        u8    3x96x96 "* ]]
	[[ "${lines[2]}" == "  boxes_true   f32   ("[1-6]..[2-6]")x6 "* ]]
	[[ "${lines[3]}" == "  mask         u8    96x96 "* ]]
	[[ "${lines[4]}" == "  instances    u8    96x96 "* ]]
	run truth_of "$TMP/c.cnn"
	echo "$output"
	[[ "$output" =~ ^records\ 20\ boxes\ [0-9]+\ bad\ 0\ iou\ 0\.([0-2][0-9][0-9]|300)\  ]]
	# every class is one of Fashion-MNIST's ten; the boxes are valid truth
	run bash -c "cnn-boxes --to csv -f boxes_true '$TMP/c.cnn' | tail -n +2 | awk -F, '\$7 < 0 || \$7 > 9 || \$7 != int(\$7)' | wc -l"
	[ "$output" -eq 0 ]
	# the objects' longer sides are 24..48 pixels, less what is covered
	run bash -c "cnn-boxes --to csv -f boxes_true '$TMP/c.cnn' | tail -n +2 | awk -F, '{ w = \$4 - \$2; h = \$5 - \$3; if ((w > h ? w : h) > 48) print }' | wc -l"
	[ "$output" -eq 0 ]
}

@test "the seed decides everything: the same seed the same bytes, the first N of more the same" {
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 300 > "$TMP/fm.cnn"
	args="-B $SKIMAGE/grass.png -B $SKIMAGE/gravel.png --tint 0.5 -p 100"
	cnn-compose $args -S 3 -n 10 "$TMP/fm.cnn" > "$TMP/a.cnn"
	cnn-compose $args -S 3 -n 10 < "$TMP/fm.cnn" > "$TMP/b.cnn"
	cmp "$TMP/a.cnn" "$TMP/b.cnn"
	cnn-compose $args -S 4 -n 10 "$TMP/fm.cnn" > "$TMP/c.cnn"
	! cmp -s "$TMP/a.cnn" "$TMP/c.cnn"
	cnn-compose $args -S 3 -n 4 "$TMP/fm.cnn" | cnn-head -n 4 > "$TMP/d.cnn"
	cnn-head -n 4 "$TMP/a.cnn" | cmp - "$TMP/d.cnn"
	# a folder is its photos in the order of their names
	mkdir "$TMP/photos"
	cp $SKIMAGE/gravel.png "$TMP/photos/b.png"
	cp $SKIMAGE/grass.png "$TMP/photos/a.PNG"
	cnn-compose -B "$TMP/photos" --tint 0.5 -p 100 -S 3 -n 10 "$TMP/fm.cnn" | cmp - "$TMP/a.cnn"
}

@test "a pool of 3 keeps 3 of the objects; gray images; no objects at all" {
	make_objects
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 200 > "$TMP/fm.cnn"
	# 3 of 200: at most 3 classes among 200 images
	run bash -c "cnn-compose -B $SKIMAGE/brick.png -p 3 -n 200 $TMP/fm.cnn | cnn-boxes --to csv -f boxes_true | tail -n +2 | cut -d, -f7 | sort -u | wc -l"
	[ "$output" -ge 1 ] && [ "$output" -le 3 ]
	run bash -c "cnn-compose -B $SKIMAGE/brick.png -c 1 -s 32x48 -k 0 -n 3 $TMP/objects.cnn | cnn-info"
	[[ "$output" == *"image        u8    1x32x48 "* ]]
	[[ "$output" == *"boxes_true   f32   0x6 "* ]]
	[[ "$output" == *"mask         u8    32x48              min 0 max 0 "* ]]
}

@test "classes above 254 make an i32 mask; an alpha channel is the mask" {
	npy '|u1' '(1, 2, 3)' '\001\002\003\004\005\006' > "$TMP/i.npy"
	npy '<i4' '(1,)' '\054\001\000\000' > "$TMP/l.npy"
	cnn-load image="$TMP/i.npy" label="$TMP/l.npy" > "$TMP/o.cnn"
	run bash -c "cnn-compose -B $SKIMAGE/brick.png -k 1 -n 2 $TMP/o.cnn | cnn-info"
	[[ "$output" == *"mask         i32   96x96              min 0 max 301 "* ]]
	# gray + alpha: the alpha (0 on the left half) cuts the object
	npy '|u1' '(1, 2, 2, 4)' '\377\377\377\377\377\377\377\377\000\000\377\377\000\000\377\377' > "$TMP/a.npy"
	npy '<i4' '(1,)' '\002\000\000\000' > "$TMP/l.npy"
	cnn-load image="$TMP/a.npy" label="$TMP/l.npy" > "$TMP/o.cnn"
	run bash -c "cnn-compose -B $SKIMAGE/brick.png --object-scale 1 -k 1 -n 1 $TMP/o.cnn | cnn-boxes --to csv -f boxes_true | tail -n 1 | awk -F, '{ print \$4 - \$2, \$5 - \$3, \$7 }'"
	[ "$output" = "2 2 2" ]
}

@test "bad input is one line and exit 1" {
	make_objects
	npy '|u1' '(1, 2, 2)' '\000\000\000\000' > "$TMP/z.npy"
	npy '<i4' '(1,)' '\001\000\000\000' > "$TMP/l.npy"
	cnn-load image="$TMP/z.npy" label="$TMP/l.npy" > "$TMP/zero.cnn"
	run cnn-compose -B "$TMP/black.png" "$TMP/zero.cnn"
	assert_error cnn-compose 'zero.cnn record 1: tensor "image" has no pixel above 0: an object needs a mask$'
	run cnn-compose -B "$TMP/black.png" -t 200 "$TMP/objects.cnn"
	assert_error cnn-compose 'record 1: tensor "image" has no pixel above 200'
	run bash -c "cnn-load $SKIMAGE/camera.png | cnn-compose -B '$TMP/black.png' > /dev/null"
	assert_error cnn-compose '<stdin> record 1: no tensor "label"$'
	run bash -c "cnn-compose -B '$TMP/black.png' -l image '$TMP/objects.cnn' > /dev/null"
	assert_error cnn-compose 'record 1: tensor "image" is u8 6x8; want a class, a scalar$'
	run bash -c "cnn-compose -B '$TMP/black.png' < /dev/null"
	assert_error cnn-compose 'empty input'
	run cnn-compose -B "$TMP/nothing.png" "$TMP/objects.cnn"
	assert_error cnn-compose 'nothing.png'
	mkdir "$TMP/empty"
	run cnn-compose -B "$TMP/empty" "$TMP/objects.cnn"
	assert_error cnn-compose 'empty: no .png or .jpg file in the folder$'
	head -c 100 "$TMP/objects.cnn" > "$TMP/cut.cnn"
	run bash -c "cnn-compose -B '$TMP/black.png' '$TMP/cut.cnn' > /dev/null"
	assert_error cnn-compose 'cut.cnn'
}

@test "no binary to a terminal; usage errors exit 2" {
	make_objects
	for args in "" "-B x -k 3:2" "-B x -k 1.5" "-B x -k 300" "-B x --object-size 2 --object-scale 1" \
		"-B x -c 1 --tint 1" "-B x -c 2" "-B x --max-iou 2" "-B x -s 0x4" "-B x --flip" \
		"-B x --background-scale 0" "-B x -t 255" "-B x --nope"; do
		run cnn-compose $args
		echo "$args: $output"
		[ "$status" -eq 2 ]
		[[ "${lines[-1]}" == "Try 'cnn-compose --help' for more information." ]]
	done
	run cnn-compose -B "$TMP/black.png" -o "$TMP/objects.cnn" "$TMP/objects.cnn"
	[ "$status" -eq 2 ]
	run cnn-compose --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "Usage: cnn-compose -B BACKGROUND [OPTION]... [FILE]..." ]]
	if command -v script >/dev/null; then
		run script -qec "cnn-compose -B $TMP/black.png $TMP/objects.cnn" /dev/null
		[[ "$output" == *"will not write a binary stream to a terminal"* ]]
	fi
}
