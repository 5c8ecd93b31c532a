load helper

# 40 x 50, black, with a white 10 x 10 square at x 10..20, y 8..18: the
# image, its mask (class 255) and its box (class 0), one record of each
# stream in $TMP/square.cnn.
make_square() {
	awk 'BEGIN { for (y = 0; y < 40; y++) { s = ""; for (x = 0; x < 50; x++)
		s = s (x >= 10 && x < 20 && y >= 8 && y < 18 ? 255 : 0) " "; print s } }' |
		cnn-load --text - | cnn-conv -k 1 --clamp | cnn-save -o "$TMP/square.npy"
	cnn-load image="$TMP/square.npy" mask="$TMP/square.npy" |
		cnn-boxes --from csv -t <(echo 10,8,20,18,1,0) > "$TMP/square.cnn"
}

# Is every bright pixel of the augmented square inside its box (half a
# pixel of slack), and does the mask lie where the image is bright?
square_follows() {
	cnn-augment "$@" "$TMP/square.cnn" > "$TMP/out.cnn"
	cnn-save -o "$TMP/img.txt" < "$TMP/out.cnn"
	cnn-save -f mask -o "$TMP/mask.txt" < "$TMP/out.cnn"
	cnn-boxes --to csv < "$TMP/out.cnn" | tail -n +2 > "$TMP/box.csv"
	awk -F'[ ,]' '
	FILENAME ~ /box/ { n++; x1 = $2; y1 = $3; x2 = $4; y2 = $5; next }
	FILENAME ~ /img/ { for (x = 1; x <= NF; x++) if ($x != "") v[y, x - 1] = $x; y++; next }
	{ for (x = 1; x <= NF; x++) if ($x != "") m[my, x - 1] = $x; my++ }
	END {
		for (k in v) {
			split(k, p, SUBSEP)
			if (v[k] > 128) {
				bright++
				if (n != 1 || p[2] + 0.5 < x1 - 0.5 || p[2] + 0.5 > x2 + 0.5 ||
				    p[1] + 0.5 < y1 - 0.5 || p[1] + 0.5 > y2 + 0.5) out++
			}
			if ((m[k] == 255 && v[k] < 63) || (m[k] == 0 && v[k] > 192)) off++
		}
		printf "boxes %d bright %d outside %d mask-off %d\n", n, bright, out, off
	}' "$TMP/box.csv" "$TMP/img.txt" "$TMP/mask.txt"
}

@test "a box drawn around a square still encloses it after flip, crop, rotate; the mask stays on it" {
	make_square
	for seed in 1 2 3 4 5; do
		for chain in "--flip=p=1" "--vflip=p=1" "--crop 30x36" "--crop 40x50,pad=6" \
			"--rotate 40" "--flip --crop 32x40 --rotate 30" "--shear 15 --scale 0.2 --translate 0.1" \
			"--resized-crop 32x32,scale=0.5:1" "--elastic=4,sigma=3 --jitter 0.1"; do
			run square_follows -S $seed $chain
			[ "$status" -eq 0 ]
			echo "$chain seed $seed: $output"
			[[ "$output" =~ ^boxes\ 1\ bright\ [0-9]+\ outside\ 0\ mask-off\ 0$ ]] ||
			[[ "$output" =~ ^boxes\ 0\ bright\ [0-4]\ outside ]]
		done
	done
}

@test "a flip mirrors the pixels and the box exactly" {
	make_square
	run bash -c "cnn-augment --flip=p=1 '$TMP/square.cnn' | cnn-boxes --to csv"
	[ "${lines[1]}" = "1,30,8,40,18,1,0" ]
	run bash -c "printf '1 2 3\n4 5 6\n' | cnn-load --text - | cnn-augment --flip=p=1 | cnn-save -o -"
	[ "$output" = "$(printf '3 2 1\n6 5 4')" ]
	run bash -c "printf '1 2 3\n4 5 6\n' | cnn-load --text - | cnn-augment --vflip=p=1 | cnn-save -o -"
	[ "$output" = "$(printf '4 5 6\n1 2 3')" ]
	# p=0: nothing happens
	run bash -c "printf '1 2 3\n4 5 6\n' | cnn-load --text - | cnn-augment --flip=p=0 | cnn-save -o -"
	[ "$output" = "$(printf '1 2 3\n4 5 6')" ]
}

@test "crops: a centre crop, padding with a value, edge and reflection" {
	run bash -c "printf '1 2 3 4\n5 6 7 8\n9 10 11 12\n' | cnn-load --text - | cnn-augment --crop 1x2,center | cnn-save -o -"
	[ "$output" = "6 7" ]
	run bash -c "printf '1 2\n3 4\n' | cnn-load --text - | cnn-augment --crop 2x4,center,fill=9 | cnn-save -o -"
	[ "$output" = "$(printf '9 1 2 9\n9 3 4 9')" ]
	run bash -c "printf '1 2\n3 4\n' | cnn-load --text - | cnn-augment --crop 2x4,center,fill=edge | cnn-save -o -"
	[ "$output" = "$(printf '1 1 2 2\n3 3 4 4')" ]
	run bash -c "printf '1 2 3\n' | cnn-load --text - | cnn-augment --crop 1x7,center,fill=reflect | cnn-save -o -"
	[ "$output" = "3 2 1 2 3 2 1" ]
}

@test "a crop padded past its own width lands wholly in the padding: all fill, no read outside" {
	printf '1 2 3 4\n5 6 7 8\n' | cnn-load --text - > "$TMP/small.cnn"
	for seed in 1 2 3 4 5 6 7 8 9 10; do
		run bash -c "cnn-augment -S $seed --flip=p=1 --crop 2x3,pad=30 '$TMP/small.cnn' | cnn-info"
		[ "$status" -eq 0 ] || { echo "seed $seed: $output"; return 1; }
		[[ "${lines[1]}" == *"1x2x3 "* ]]
	done
}

@test "colour: brightness, exposure, colour shift, normalize on known values" {
	run bash -c "printf '100 200\n' | cnn-load --text - | cnn-augment --brightness 0.5:0.5 | cnn-save -o -"
	[ "$output" = "50 100" ]
	run bash -c "printf '100 200\n' | cnn-load --text - | cnn-augment --brightness 2:2 | cnn-save -o -"
	[ "$output" = "200 255" ]
	run bash -c "printf '100 200\n' | cnn-load --text - | cnn-augment --color-shift 0.2:0.2 | cnn-save -o -"
	[ "$output" = "151 251" ]
	run bash -c "printf '0 255\n' | cnn-load --text - | cnn-augment --normalize=mean=0.5,std=0.5 | cnn-save -o -"
	[ "$output" = "-1 1" ]
}

@test "hue and saturation turn and fade a colour photo; gray stays gray" {
	run bash -c "cnn-load -r 32 $SKIMAGE/coffee.png | cnn-augment --hue 0.5:0.5 | cnn-info"
	[ "$status" -eq 0 ]
	[[ "$output" == *"u8    3x32x32"* ]]
	run bash -c "cnn-load -r 32 $SKIMAGE/coffee.png > $TMP/c.cnn; cnn-augment --hue 0.5:0.5 $TMP/c.cnn | cmp -s - $TMP/c.cnn"
	[ "$status" -ne 0 ]
	run bash -c "cnn-load -c 1 -r 32 $SKIMAGE/coffee.png > $TMP/g.cnn; cnn-augment --hue 0.3 --saturation 2 -z 3 $TMP/g.cnn | cmp - $TMP/g.cnn"
	[ "$status" -eq 0 ]
}

@test "the same seed gives the same stream, whatever the thread count" {
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 300 > "$TMP/in.cnn"
	chain="--crop 28,pad=2 --flip --rotate 10 --elastic --noise 0.02 --erase --mixup=0.4,classes=10"
	cnn-augment -j 1 -S 7 $chain "$TMP/in.cnn" > "$TMP/a.cnn"
	cnn-augment -j 2 -S 7 $chain "$TMP/in.cnn" > "$TMP/b.cnn"
	cmp "$TMP/a.cnn" "$TMP/b.cnn"
	cnn-augment -j 2 -S 8 $chain "$TMP/in.cnn" > "$TMP/c.cnn"
	! cmp -s "$TMP/a.cnn" "$TMP/c.cnn"
	# and from a pipe, as from a file
	cnn-augment -j 2 -S 7 $chain < "$TMP/in.cnn" | cmp - "$TMP/a.cnn"
	run cnn-info "$TMP/a.cnn"
	[[ "$output" == "300 records"* ]]
	[[ "$output" == *"label        f32   10"* ]]
}

@test "more workers than records, pass after pass: none looks at a window once it is freed" {
	# Under the sanitizers this caught a worker that woke after the last
	# window of a pass was freed.
	printf '0 255\n' | cnn-load --text - > "$TMP/one.cnn"
	run bash -c "set -o pipefail; cnn-augment -j 8 -r 100 --normalize=mean=0.5,std=0.5 '$TMP/one.cnn' |
		cnn-save -o - | grep -v '^\$' | sort | uniq -c"
	[ "$status" -eq 0 ]
	[ "$(echo $output)" = "100 -1 1" ]
}

@test "--repeat N: N passes, each augmented anew, from a file or a pipe" {
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 50 > "$TMP/in.cnn"
	cnn-augment -r 3 --rotate 20 "$TMP/in.cnn" > "$TMP/file.cnn"
	cat "$TMP/in.cnn" | cnn-augment -r 3 --rotate 20 > "$TMP/pipe.cnn"
	cmp "$TMP/file.cnn" "$TMP/pipe.cnn"
	run cnn-info -r "$TMP/file.cnn"
	[ "${#lines[@]}" -eq 150 ]
	# record 1 and record 51 are the same image, augmented differently;
	# the labels come round in the same order
	[ "$(cnn-save -f label -o - < "$TMP/file.cnn" | grep -v '^$' | sed -n '1p;51p;101p' | sort -u | wc -l)" -eq 1 ]
	cnn-save -o "$TMP/r-%03d.png" < "$TMP/file.cnn"
	! cmp -s "$TMP/r-000.png" "$TMP/r-050.png"
	# the copy of the pipe is gone
	[ -z "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'cnn-augment-*' -newer "$TMP/in.cnn")" ]
}

@test "normalize from the data: a first pass, --save-stats and --stats agree" {
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-head -n 200 > "$TMP/in.cnn"
	cnn-augment --normalize "$TMP/in.cnn" > "$TMP/a.cnn"
	cat "$TMP/in.cnn" | cnn-augment --normalize > "$TMP/b.cnn"
	cmp "$TMP/a.cnn" "$TMP/b.cnn"
	cnn-augment --save-stats "$TMP/stats.cnn" < "$TMP/in.cnn"
	cnn-augment --stats "$TMP/stats.cnn" --normalize "$TMP/in.cnn" | cmp - "$TMP/a.cnn"
	# the normalised data has mean 0
	cnn-augment --save-stats "$TMP/s2.cnn" < "$TMP/a.cnn"
	cnn-save -f mean -o - < "$TMP/s2.cnn" | awk '{ exit !($1 > -1e-4 && $1 < 1e-4) }'
	run cnn-info -r "$TMP/stats.cnn"
	[[ "$output" == "1: mean=f32 1(0.2"*" std=f32 1(0.3"*" eigval=f32 1(0.3"*" eigvec=f32 1x1(1)" ]]
}

@test "mixup makes soft labels; mosaic tiles four images with their boxes" {
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 40 > "$TMP/in.cnn"
	run bash -c "cnn-augment --mixup=1,classes=10 $TMP/in.cnn | cnn-save -f label -o - | awk 'NF { s = 0; for (i = 1; i <= NF; i++) s += \$i; if (s < 0.9999 || s > 1.0001) bad++ } END { print n, bad + 0 } NF { n++ }'"
	[ "$output" = "40 0" ]
	make_square
	run bash -c "cnn-augment --mosaic=64x80 $TMP/square.cnn $TMP/square.cnn | cnn-info -r"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"image=u8 1x64x80 mask=u8 1x64x80 boxes=f32 "[1-4]"x6"* ]]
}

@test "other tensors pass through, in their places; record order is kept" {
	cnn-load -P $SKIMAGE/coffee.png $SKIMAGE/chelsea.png $SKIMAGE/astronaut.png > "$TMP/in.cnn"
	run bash -c "cnn-augment -j 2 -w 1 --resized-crop 64 --flip $TMP/in.cnn | cnn-save -f path -o -"
	[ "${lines[0]##*/}" = "coffee.png" ]
	[ "${lines[2]##*/}" = "astronaut.png" ]
	run bash -c "cnn-augment --rotate 5 $TMP/in.cnn | cnn-info -r"
	[[ "${lines[0]}" == "1: image=u8 3x400x600 path=text"* ]]
}

@test "bad options are usage errors" {
	run cnn-augment
	[ "$status" -eq 2 ]
	[[ "$output" == *"no operation given"* ]]
	run cnn-augment --rotaet 15
	[ "$status" -eq 2 ]
	run cnn-augment --rotate
	[ "$status" -eq 2 ]
	run cnn-augment --rotate 15x
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "cnn-augment: --rotate: rotate: bad value \"15x\"" ]]
	run cnn-augment --crop 24,pading=3
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *'crop has no key "pading" (it takes: p pad fill center)' ]]
	run cnn-augment --saturation 0.5
	[ "$status" -eq 2 ]
	run cnn-augment --flip=p=1.5
	[ "$status" -eq 2 ]
	run cnn-augment --normalize=mean=0.5
	[ "$status" -eq 2 ]
	run cnn-augment -r 0 --flip
	[ "$status" -eq 2 ]
	run cnn-augment --stats a --save-stats b --flip
	[ "$status" -eq 2 ]
	# The colour operations clamp to 0..white: after normalize they would
	# cut every negative value to 0.
	run cnn-augment --normalize=mean=127.5,std=127.5 --brightness 0.5:1.5
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *"brightness after normalize: it works in pixel units"*"put normalize last" ]]
	run cnn-augment --normalize --noise 0.1
	[ "$status" -eq 2 ]
	run cnn-augment --hue 0.6
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == *"hue: value out of range" ]]
}

@test "bad data: one line naming the record, exit 1" {
	run bash -c "printf '1 2\n' | cnn-load --text - | cnn-augment --field picture --flip"
	assert_error cnn-augment '<stdin> record 1: no tensor "picture"$'
	run bash -c "cnn-load $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 3 | cnn-augment --field label --flip"
	assert_error cnn-augment 'record 1: tensor "label" is i32 scalar; augmentation wants an image C x H x W$'
	run bash -c "cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 5 | cnn-augment --mixup"
	assert_error cnn-augment 'record 1: mixup: records with class labels need classes=K'
	run bash -c "cnn-load -c 1 -r 8 $SKIMAGE/coffee.png | cnn-augment --pca-color=0.1,eig=imagenet"
	assert_error cnn-augment 'record 1: pca-color: the image has 1 channel, want 3 \(RGB\)$'
	run bash -c "cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-head -n 100 | head -c 20000 | cnn-augment --flip > /dev/null"
	assert_error cnn-augment 'truncated'
}

@test "a stream cut short or a bad record: every record before it is written, then the error" {
	cnn-load -z 0 $FASHION/t10k-images-idx3-ubyte.gz | cnn-head -z 0 -n 100 | head -c 20000 > "$TMP/cut.cnn"
	run bash -c "cnn-augment -w 16 --flip '$TMP/cut.cnn' > '$TMP/out.cnn'"
	assert_error cnn-augment 'cut.cnn record 25: truncated record$'
	[ "$(cnn-info -r "$TMP/out.cnn" | wc -l)" -eq 24 ]
	# A named output is not replaced by a part.
	run cnn-augment -w 16 --flip "$TMP/cut.cnn" -o "$TMP/named.cnn"
	assert_error cnn-augment 'cut.cnn record 25: truncated record$'
	[ ! -e "$TMP/named.cnn" ]
	# a record without an image in the middle of a window, under two threads
	(cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-head -n 20
	 cnn-load $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 3) > "$TMP/mixed.cnn"
	run bash -c "cnn-augment -j 2 -w 7 --rotate 10 '$TMP/mixed.cnn' > '$TMP/out.cnn'"
	assert_error cnn-augment 'mixed.cnn record 21: no tensor "image"$'
	[ "$(cnn-info -r "$TMP/out.cnn" | wc -l)" -eq 20 ]
}

@test "the copy of a pipe for --repeat is removed when the reader goes away" {
	mkdir "$TMP/spool"
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz | cnn-head -n 100 > "$TMP/in.cnn"
	run bash -c "cat '$TMP/in.cnn' | TMPDIR='$TMP/spool' cnn-augment -r 1000 --flip | head -c 1000 > /dev/null"
	[ -z "$(ls -A "$TMP/spool")" ]
}

# The acceptance of the segmentation issue: a palette-PNG mask through
# load, a flip, a centre crop and a rotation by 90 degrees (nearest
# sampling), and save: every pixel's class where the geometry puts it,
# against the same transform done by hand on the original's numbers.
@test "a palette-PNG mask: load, flip, crop, rotate 90, save: every class where the geometry puts it" {
	cnn-load "$FASHION/t10k-images-idx3-ubyte.gz" "$FASHION/t10k-labels-idx1-ubyte.gz" | cnn-head -n 20 |
		cnn-compose -B "$SKIMAGE/brick.png" -t 16 -n 1 -S 3 -o "$TMP/c.cnn"
	mkdir "$TMP/images" "$TMP/masks"
	cnn-save -o "$TMP/images/a.png" "$TMP/c.cnn"
	cnn-save -f mask -o "$TMP/masks/a.png" "$TMP/c.cnn"
	cnn-save -f mask -o - "$TMP/c.cnn" > "$TMP/before.txt"
	cnn-load -M "$TMP/masks" "$TMP/images" | cnn-augment --flip=p=1 --crop 80x80,center --rotate 90:90 |
		cnn-save -f mask -o "$TMP/after.png"
	file "$TMP/after.png" | grep -q '80 x 80, 8-bit colormap'
	mkdir "$TMP/after"
	cp "$TMP/after.png" "$TMP/after/a.png"
	cnn-load -M "$TMP/after" "$TMP/after/a.png" | cnn-save -f mask -o - > "$TMP/after.txt"
	# flip: f[r][c] = o[r][95 - c]; the centre 80 x 80 crop from (8, 8);
	# 90 degrees counter-clockwise: n[i][j] = crop[j][79 - i].
	run awk 'NR == FNR { for (j = 1; j <= NF; j++) o[NR - 1, j - 1] = $j; next }
		{ for (j = 1; j <= NF; j++) { r = j - 1 + 8; c = 79 - (FNR - 1) + 8
			n++; bad += $j != o[r, 95 - c]; objects += $j != 0 } }
		END { print n, "pixels,", objects, "of objects,", bad + 0, "misplaced" }' "$TMP/before.txt" "$TMP/after.txt"
	echo "$output"
	[[ "$output" =~ ^6400\ pixels,\ ([0-9]+)\ of\ objects,\ 0\ misplaced$ ]]
	[ "${BASH_REMATCH[1]}" -gt 200 ]
}
