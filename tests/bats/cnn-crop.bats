load helper

# A u8 3 x 4 x 5 image whose pixel (y, x) of channel c holds 100c + 10y + x,
# a mask of its size holding 10y + x, and two boxes.
octal() {
	for v; do printf '\\%03o' "$v"; done
}
setup() {
	TMP="$BATS_TEST_TMPDIR"
	npy '|u1' '(1, 3, 4, 5)' "$(octal $(for c in 0 1 2; do for y in 0 1 2 3; do for x in 0 1 2 3 4; do echo $((100 * c + 10 * y + x)); done; done; done))" > "$TMP/image.npy"
	npy '|u1' '(1, 4, 5)' "$(octal $(for y in 0 1 2 3; do for x in 0 1 2 3 4; do echo $((10 * y + x)); done; done))" > "$TMP/mask.npy"
	cnn-load image="$TMP/image.npy" mask="$TMP/mask.npy" > "$TMP/plain.cnn"
	printf 'x1,y1,x2,y2,score,class\n0.5,0.2,3.7,2.9,0.9,1\n-2,1,9,9,0.8,0\n' > "$TMP/boxes.csv"
	cnn-boxes --from csv -t "$TMP/boxes.csv" "$TMP/plain.cnn" > "$TMP/in.cnn"
}

@test "a record per box: the pixels it covers, clipped then floored as face-api cuts" {
	cnn-crop "$TMP/in.cnn" > "$TMP/out.cnn"
	run cnn-info "$TMP/out.cnn"
	[ "${lines[0]}" = "2 records" ]
	# Box 1: x 0.5..3.7, y 0.2..2.9 -> left 0, top 0, width floor(3.2) = 3, height floor(2.7) = 2.
	run sh -c "cnn-head -n 1 '$TMP/out.cnn' | cnn-save -o -"
	[ "$(echo $output)" = "0 1 2 10 11 12 100 101 102 110 111 112 200 201 202 210 211 212" ]
	run sh -c "cnn-head -n 1 '$TMP/out.cnn' | cnn-save -f mask -o -"
	[ "$(echo $output)" = "0 1 2 10 11 12" ]
	# Box 2: x -2..9 clipped to 0..5, y 1..9 to 1..4.
	run sh -c "cnn-head -s 1 '$TMP/out.cnn' | cnn-info"
	[[ "$output" == *"image "*"u8    3x3x5"* ]]
	[[ "$output" == *"mask "*"u8    3x5"* ]]
	run sh -c "cnn-head -s 1 '$TMP/out.cnn' | cnn-save -f source -o -"
	[ "$(echo $output)" = "1 2" ]
	run sh -c "cnn-head -n 1 '$TMP/out.cnn' | cnn-save -f box -o -"
	[ "$(echo $output)" = "0.5 0.200000003 3.70000005 2.9000001 0.899999976 1" ]
	run sh -c "cnn-info '$TMP/out.cnn' | grep -c boxes"
	[ "$output" -eq 0 ]
}

@test "--square and --margin grow the box about its centre first" {
	printf 'x1,y1,x2,y2,score,class\n2,1,3,3,1,0\n' > "$TMP/one.csv"
	cnn-boxes --from csv -t "$TMP/one.csv" "$TMP/plain.cnn" > "$TMP/one.cnn"
	# 1 x 2 made 2 x 2 about (2.5, 2): x 1.5..3.5, y 1..3 -> left 1, width 2.
	run sh -c "cnn-crop -q '$TMP/one.cnn' | cnn-info"
	[[ "$output" == *"u8    3x2x2"* ]]
	# and a margin of 0.5: 4 x 4 about it, x 0.5..4.5, y 0..4 -> 4 x 4.
	run sh -c "cnn-crop -q -m 0.5 '$TMP/one.cnn' | cnn-info"
	[[ "$output" == *"u8    3x4x4"* ]]
}

@test "a box outside the image, or under a pixel, makes no record" {
	printf 'x1,y1,x2,y2,score,class\n10,10,12,12,1,0\n1.2,1.2,1.9,3,1,0\n' > "$TMP/none.csv"
	cnn-boxes --from csv -t "$TMP/none.csv" "$TMP/plain.cnn" > "$TMP/none.cnn"
	run sh -c "cnn-crop '$TMP/none.cnn' | cnn-info"
	[[ "$output" == "0 records"* ]]
}

@test "no boxes or no image: one line, exit 1; bad usage exits 2" {
	run cnn-crop "$TMP/plain.cnn"
	assert_error cnn-crop 'record 1: no tensor "boxes"'
	run cnn-crop --image picture "$TMP/in.cnn"
	assert_error cnn-crop 'record 1: no tensor "picture"'
	run cnn-crop --margin -1 "$TMP/in.cnn"
	[ "$status" -eq 2 ]
}
