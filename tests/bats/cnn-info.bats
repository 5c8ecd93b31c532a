load helper

@test "summary: count, fields, dtypes, shapes, ranges" {
	run bash -c "cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 100 | cnn-info"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "100 records" ]
	[[ "${lines[1]}" =~ ^\ +image\ +u8\ +1x28x28\ +min\ 0\ max\ 255\ mean ]]
}

@test "shapes that vary are shown as ranges" {
	run bash -c "cnn-load $SKIMAGE/camera.png $SKIMAGE/chelsea.png | cnn-info"
	[[ "${lines[1]}" == *"(1..3)x(300..512)x(451..512)"* ]]
}

@test "the columns line up whatever the length of the names" {
	run bash -c "cnn-load $FASHION/t10k-images-idx3-ubyte.gz class_of_the_garment=$FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 5 | cnn-info"
	[ "$status" -eq 0 ]
	[[ "${lines[2]}" =~ ^\ \ class_of_the_garment\ [a-z] ]]
	# the dtype column starts at the same place on both lines
	[ "$(printf '%s\n' "${lines[@]:1}" | awk '{ print index($0, " " $2 " ") }' | sort -u | wc -l)" -eq 1 ]
}

@test "several files read as one stream" {
	cnn-load $SKIMAGE/camera.png > "$TMP/a.cnn"
	cnn-load -z 0 $SKIMAGE/coins.png > "$TMP/b.cnn"
	run cnn-info "$TMP/a.cnn" "$TMP/b.cnn"
	[ "${lines[0]}" = "2 records" ]
}

@test "an empty stream has 0 records; garbage is one error" {
	run bash -c "cnn-info < /dev/null"
	[ "$status" -eq 0 ]
	[ "$output" = "0 records" ]
	head -c 1000 /dev/urandom > "$TMP/junk"
	run cnn-info "$TMP/junk"
	assert_error cnn-info 'junk record 1: not a tensor stream'
}

@test "NaN and infinities are counted apart from the finite values" {
	run bash -c "printf 'nan 1 2\ninf 3 -inf\n' | cnn-load --allow-nonfinite --text - | cnn-info"
	[[ "${lines[1]}" =~ image\ +f32\ +1x2x3\ +min\ 1\ max\ 3\ mean\ 2\ nan\ 1\ inf\ 2$ ]]
	run bash -c "printf 'nan nan\n' | cnn-load --allow-nonfinite --text - | cnn-info"
	[[ "${lines[1]}" =~ image\ +f32\ +1x1x2\ +nan\ 2$ ]]
}
