load helper

@test "the course notes' 6x6 image with the vertical edge filter" {
	run bash -c "$(declare -f notes_image matrix); notes_image | matrix | cnn-conv -k vertical | cnn-save -o -"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf -- '-5 -4 0 8\n-10 -2 2 3\n0 -2 -4 -7\n-3 -2 -3 -16')" ]
}

@test "the same filter written out as a literal kernel" {
	run bash -c "$(declare -f notes_image matrix); notes_image | matrix | cnn-conv -k '1,0,-1;1,0,-1;1,0,-1' | cnn-save -o -"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "-5 -4 0 8" ]
	[ "${lines[3]}" = "-3 -2 -3 -16" ]
}

@test "a step edge gives 0 30 30 0" {
	run bash -c "for i in 1 2 3 4 5 6; do echo 10 10 10 0 0 0; done | cnn-load --text - | cnn-conv -k vertical | cnn-save -o -"
	[ "$status" -eq 0 ]
	for i in 0 1 2 3; do [ "${lines[$i]}" = "0 30 30 0" ]; done
}

@test "the mirrored step gives 0 -30 -30 0, and Sobel and Scharr have the notes' signs" {
	run bash -c "for i in 1 2 3 4 5 6; do echo 0 0 0 10 10 10; done | cnn-load --text - | cnn-conv -k vertical | cnn-save -o -"
	[ "${lines[0]}" = "0 -30 -30 0" ]
	run bash -c "for i in 1 2 3 4 5 6; do echo 10 10 10 0 0 0; done | cnn-load --text - | cnn-conv -k sobel-x,scharr-x | cnn-save -o -"
	# (lines[] leaves out the blank line between channels)
	[ "${lines[0]}" = "0 -40 -40 0" ]
	[ "${lines[4]}" = "0 -160 -160 0" ]
}

@test "the horizontal filter on the quadrant image" {
	run bash -c "(for i in 1 2 3; do echo 10 10 10 0 0 0; done; for i in 1 2 3; do echo 0 0 0 10 10 10; done) | cnn-load --text - | cnn-conv -k horizontal | cnn-save -o -"
	[ "$output" = "$(printf '0 0 0 0\n30 10 -10 -30\n30 10 -10 -30\n0 0 0 0')" ]
}

@test "two filters give two output channels; same padding keeps the size" {
	run bash -c "$(declare -f notes_image matrix); notes_image | matrix | cnn-conv -k sobel-x,sobel-y -p same | cnn-info -r"
	[ "$status" -eq 0 ]
	[[ "$output" == *"image=f32 2x6x6"* ]]
}

@test "stride 2 on 7x7 with a 3x3 kernel gives 3x3 (the notes' example)" {
	run bash -c "for i in 1 2 3 4 5 6 7; do echo 1 2 3 4 5 6 7; done | cnn-load --text - | cnn-conv -k box -s 2 | cnn-info -r"
	[[ "$output" == *"image=f32 1x3x3"* ]]
}

@test "full padding grows the output to n + f - 1" {
	run bash -c "$(declare -f notes_image matrix); notes_image | matrix | cnn-conv -k vertical -p full | cnn-info -r"
	[[ "$output" == *"image=f32 1x8x8"* ]]
}

@test "a filter spans every input channel (3-D convolution)" {
	# Two channels, each the 6x6 image: the result doubles.
	run bash -c "$(declare -f notes_image matrix); (notes_image; echo; notes_image) | matrix | cnn-conv -k vertical | cnn-save -o -"
	[ "${lines[0]}" = "-10 -8 0 16" ]
}

@test "depthwise keeps channels apart" {
	run bash -c "$(declare -f notes_image matrix); (notes_image; echo; notes_image) | matrix | cnn-conv -k vertical --depthwise | cnn-save -o -"
	[ "${lines[0]}" = "-5 -4 0 8" ]
	[ "${lines[4]}" = "-5 -4 0 8" ]
}

@test "--flip rotates the kernel: true convolution" {
	run bash -c "$(declare -f notes_image matrix); notes_image | matrix | cnn-conv -k vertical --flip | cnn-save -o -"
	[ "${lines[0]}" = "5 4 0 -8" ]
}

@test "dilation 2 spreads the kernel over 5x5" {
	run bash -c "$(declare -f notes_image matrix); notes_image | matrix | cnn-conv -k vertical -d 2 | cnn-info -r"
	[[ "$output" == *"image=f32 1x2x2"* ]]
}

@test "a 3-D convolution of a C x D x H x W tensor" {
	printf '1 2 4 8 16\n' | cnn-load --text - | cnn-save -o "$TMP/row.npy"
	run bash -c "cnn-load --whole image='$TMP/row.npy' | cnn-head -n 1 | cnn-conv -k '1,0,-1' | cnn-save -o -"
	# The array is 1 x 1 x 1 x 5; as a record it is C=1 x D=1 x H=1 x W=5: 3-D.
	[ "$status" -eq 0 ]
	[ "$output" = "-3 -6 -12" ]
}

@test "a filter bank from a stream, with bias" {
	printf '1 0\n0 1\n' | cnn-load --text - > "$TMP/w.cnn"
	# The 1x2x2 record saved as one array is 1x1x2x2: K x C x kernel.
	run bash -c "cnn-save -f image -o '$TMP/w.npy' < '$TMP/w.cnn' && cnn-load --whole weight='$TMP/w.npy' > '$TMP/bank.cnn'"
	[ "$status" -eq 0 ]
	run bash -c "printf '1 2\n3 4\n' | cnn-load --text - | cnn-conv -K '$TMP/bank.cnn' | cnn-save -o -"
	[ "$status" -eq 0 ]
	[ "$output" = "5" ]
}

@test "--abs and --rescale make a viewable u8 image" {
	run bash -c "$(declare -f notes_image matrix); notes_image | matrix | cnn-conv -k vertical --abs --rescale | cnn-save -o -"
	[ "${lines[3]}" = "48 32 48 255" ]
	run bash -c "$(declare -f notes_image matrix); notes_image | matrix | cnn-conv -k vertical --clamp | cnn-info -r"
	[[ "$output" == *"image=u8 1x4x4"* ]]
}

@test "Sobel edges of a real photo" {
	run bash -c "cnn-load -c 1 $SKIMAGE/camera.png | cnn-conv -k sobel-x -p same --abs --clamp | cnn-info"
	[ "$status" -eq 0 ]
	[[ "$output" == *"image"*"u8"*"1x512x512"* ]]
}

@test "fields it does not use pass through" {
	run bash -c "cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz | cnn-head -n 3 | cnn-conv -k box | cnn-info -r"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1: image=f32 1x26x26 label=i32 scalar(9)" ]
}

@test "channel mismatch names the record, the tensor and both counts" {
	cnn-load -c 1 $SKIMAGE/camera.png > "$TMP/gray.cnn"
	cnn-load -c 3 $SKIMAGE/camera.png > "$TMP/rgb.cnn"
	run bash -c "cat '$TMP/gray.cnn' '$TMP/rgb.cnn' | cnn-conv -k box > /dev/null"
	assert_error cnn-conv '^cnn-conv: <stdin> record 2: tensor "image" has 3 channels, kernel wants 1$'
}

@test "a kernel larger than the image is refused" {
	run bash -c "printf '1 2\n3 4\n' | cnn-load --text - | cnn-conv -k box5 > /dev/null"
	assert_error cnn-conv 'record 1: .*larger'
}

@test "usage errors exit 2" {
	run cnn-conv
	[ "$status" -eq 2 ]
	run cnn-conv -k nosuchfilter
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown filter 'nosuchfilter'"* ]]
	run cnn-conv -k box -s 0
	[ "$status" -eq 2 ]
	run cnn-conv -k box --bogus
	[ "$status" -eq 2 ]
	run cnn-conv -k '1,2;3'
	[ "$status" -eq 2 ]
}

@test "--help and --version" {
	run cnn-conv --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"sobel-x"* ]]
	run cnn-conv --version
	[[ "$output" == "cnn-conv (libcnn) "* ]]
}

@test "--magnitude combines sobel-x and sobel-y into one gradient channel" {
	run bash -c "for i in 1 2 3 4 5; do echo 0 0 0 10 10; done | cnn-load --text - | cnn-conv -k sobel-x,sobel-y --magnitude | cnn-save -o -"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "0 40 40" ]
	run cnn-conv -k sobel-x --abs --magnitude
	[ "$status" -eq 2 ]
}

@test "written-out kernels: planes must match, and a 3-D kernel needs a 3-D input" {
	run cnn-conv -k '1;2;3|4'
	[ "$status" -eq 2 ]
	[[ "$output" == *"planes of 3 and 1 rows"* ]]
	run bash -c "printf '1 2\n3 4\n' | cnn-load --text - | cnn-conv -k '1,0;0,1|1,1;1,1' > /dev/null"
	assert_error cnn-conv 'record 1: tensor "image": kernel .* is 2x2x2 but the input has 2 spatial dimensions'
	run bash -c "printf '1 2\n3 4\n' | cnn-load --text - | cnn-conv -k box -s 1,1,1 > /dev/null"
	assert_error cnn-conv 'record 1: --stride: give 1 or 2 numbers for a 2-D input'
}
