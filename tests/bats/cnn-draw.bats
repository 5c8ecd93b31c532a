load helper

# A black 8 x 8 gray image with one box of class 0 from (1,1) to (7,7).
black_with_box() {
	for i in 1 2 3 4 5 6 7 8; do echo 0 0 0 0 0 0 0 0; done | cnn-load --text - |
		cnn-boxes --from csv -t <(printf '1,1,7,7,0.9,0\n')
}

@test "an outline in the class's colour: class 0 is (235, 35, 35)" {
	run bash -c "$(declare -f black_with_box); black_with_box | cnn-draw --no-labels -w 1 | cnn-save -o -"
	[ "$status" -eq 0 ]
	# Three channels of 8 rows, blank lines between.
	[ "${#lines[@]}" -eq 24 ]
	[ "${lines[0]}" = "0 0 0 0 0 0 0 0" ]
	[ "${lines[1]}" = "0 235 235 235 235 235 235 0" ]
	[ "${lines[2]}" = "0 235 0 0 0 0 235 0" ]
	[ "${lines[9]}" = "0 35 35 35 35 35 35 0" ]
}

@test "--gray keeps one channel, drawn in the colour's luma" {
	run bash -c "$(declare -f black_with_box); black_with_box | cnn-draw --gray --no-labels | cnn-save -o -"
	[ "${#lines[@]}" -eq 8 ]
	[ "${lines[6]}" = "0 95 95 95 95 95 95 0" ]
}

@test "the ground truth too, dashed, with -T" {
	run bash -c "$(declare -f black_with_box); black_with_box |
		cnn-boxes --from csv -f boxes_true -t <(printf '0,0,8,1,1,3\n') | cnn-draw -T --gray --no-labels -w 1 | cnn-save -o -"
	[ "$status" -eq 0 ]
	# The truth (class 3, luma 115) along row 0: 4 pixels on, then off,
	# and the first pixel of its right side; the detection below it.
	[ "${lines[0]}" = "115 115 115 115 0 0 0 115" ]
	[ "${lines[1]}" = "0 95 95 95 95 95 95 0" ]
}

@test "labelled boxes on a photo, saved as JPEG" {
	printf '125,135,567,420,0.92,1\n133,220,310,542,0.98,16\n' > "$TMP/dog.csv"
	run bash -c "cnn-load $DARKNET/dog.jpg | cnn-boxes --from csv -t '$TMP/dog.csv' |
		cnn-draw -N $DARKNET/coco.names | tee '$TMP/drawn.cnn' | cnn-save -o '$TMP/dog.jpg'"
	[ "$status" -eq 0 ]
	run bash -c "cnn-load '$TMP/dog.jpg' | cnn-info -r"
	[ "$output" = "1: image=u8 3x576x768" ]
	run bash -c "cnn-info -r '$TMP/drawn.cnn'"
	[ "$output" = "1: image=u8 3x576x768 boxes=f32 2x6" ]
}

@test "bad input: no image, no boxes, an image of 5 channels, usage" {
	run bash -c "printf '1,1,7,7,0.9,0\n' | cnn-boxes --from csv -t - --new | cnn-draw > /dev/null"
	assert_error cnn-draw 'record 1: no tensor "image"$'
	run bash -c "cnn-load $DARKNET/dog.jpg | cnn-draw > /dev/null"
	assert_error cnn-draw 'record 1: no tensor "boxes"$'
	run bash -c "cnn-load $DARKNET/dog.jpg | cnn-boxes --from csv -t /dev/null | cnn-draw -T > /dev/null"
	assert_error cnn-draw 'record 1: no tensor "boxes_true"$'
	run bash -c "(for c in 1 2 3 4 5; do echo 1 2; echo; done) | cnn-load --text - |
		cnn-boxes --from csv -t /dev/null | cnn-draw > /dev/null"
	assert_error cnn-draw 'record 1: tensor "image" is f32 5x1x2; want an image, C x H x W with C 1..4$'
	run cnn-draw -w 0
	[ "$status" -eq 2 ]
	run cnn-draw --font-scale x
	[ "$status" -eq 2 ]
}
