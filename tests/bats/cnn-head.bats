load helper

@test "the first N records, after skipping S" {
	run bash -c "cnn-load $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -s 2 -n 3 | cnn-save -f label -o -"
	[ "$output" = "$(printf '1\n\n1\n\n6')" ]
}

@test "more than there is, and zero" {
	run bash -c "cnn-load $SKIMAGE/camera.png | cnn-head -n 5 | cnn-info"
	[ "${lines[0]}" = "1 record" ]
	run bash -c "cnn-load $SKIMAGE/camera.png | cnn-head -n 0 | cnn-info"
	[ "${lines[0]}" = "0 records" ]
}

@test "bad arguments" {
	run cnn-head -n -1
	[ "$status" -eq 2 ]
	run bash -c "echo hello | cnn-head -n 1 > /dev/null"
	assert_error cnn-head '<stdin> record 1: '
}
