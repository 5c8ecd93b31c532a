load helper

# One 100 x 200 (h x w) image with 30 boxes in three clusters of size:
# about 10 x 20, 30 x 30 and 50 x 20 pixels (w x h).
setup() {
	TMP="$BATS_TEST_TMPDIR"
	awk 'BEGIN { for (y = 0; y < 100; y++) { for (x = 0; x < 200; x++) printf "0 "; print "" } }' |
		cnn-load --text - > "$TMP/image.cnn"
	awk 'BEGIN { print "x1,y1,x2,y2,score,class"
		split("10 20 30 30 50 20", s, " ")
		for (i = 0; i < 30; i++) { c = i % 3; d = (i % 5) * 0.2 - 0.4
			printf "0,0,%g,%g,1,0\n", s[2 * c + 1] + d, s[2 * c + 2] - d } }' > "$TMP/boxes.csv"
	cnn-boxes --from csv -t "$TMP/boxes.csv" -f boxes_true "$TMP/image.cnn" > "$TMP/boxes.cnn"
}

@test "three clusters of sizes give three anchors at their means, scaled to the input" {
	run cnn-anchors -n 3 -s 400x200 "$TMP/boxes.cnn"
	[ "$status" -eq 0 ]
	# x2 in width: 200 -> 400; heights as they are (100 -> 200 is x2 too).
	[ "${lines[0]}" = "anchors=20,40, 60,60, 100,40" ]
	[[ "${lines[1]}" =~ ^mean\ IoU\ 0\.9[0-9]+\ over\ 30\ boxes,\ 3\ anchors\ at\ 400x200$ ]]
}

@test "a grid size prints grid cells with 4 decimals, as darknet's for [region]" {
	run cnn-anchors -n 3 -s 20x10 "$TMP/boxes.cnn"
	[ "${lines[0]}" = "anchors=1.0000,2.0000, 3.0000,3.0000, 5.0000,2.0000" ]
}

@test "the seed decides; more anchors than boxes, no boxes or no image: one line, exit 1" {
	cmp <(cnn-anchors -n 5 -S 7 "$TMP/boxes.cnn") <(cnn-anchors -n 5 -S 7 "$TMP/boxes.cnn")
	run cnn-anchors -n 31 "$TMP/boxes.cnn"
	assert_error cnn-anchors '30 boxes for 31 anchors: want at least as many boxes'
	run cnn-anchors "$TMP/image.cnn"
	assert_error cnn-anchors 'record 1: no tensor "boxes_true"'
	run cnn-anchors --image picture "$TMP/boxes.cnn"
	assert_error cnn-anchors 'record 1: no image "picture"'
	run cnn-anchors -s 416 "$TMP/boxes.cnn"
	[ "$status" -eq 2 ]
}
