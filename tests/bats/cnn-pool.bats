load helper

pool_input() {
	printf '1 3 2 4\n5 6 1 2\n7 8 9 0\n4 3 2 1\n'
}

@test "max pooling f=2 s=2 of the notes' 4x4 gives 6 4 / 8 9" {
	run bash -c "$(declare -f pool_input); pool_input | cnn-load --text - | cnn-pool --max -f 2 -s 2 | cnn-save -o -"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '6 4\n8 9')" ]
}

@test "average pooling gives 3.75 2.25 / 5.5 3" {
	run bash -c "$(declare -f pool_input); pool_input | cnn-load --text - | cnn-pool --avg -f 2 -s 2 | cnn-save -o -"
	[ "$output" = "$(printf '3.75 2.25\n5.5 3')" ]
}

@test "min pooling" {
	run bash -c "$(declare -f pool_input); pool_input | cnn-load --text - | cnn-pool --min -f 2 | cnn-save -o -"
	[ "$output" = "$(printf '1 1\n3 0')" ]
}

@test "overlapping 3x3 stride 1 windows on 5x5 give 3x3 per channel" {
	run bash -c "(for i in 1 2 3 4 5; do echo 1 2 3 4 5; done; echo; for i in 1 2 3 4 5; do echo 5 4 3 2 1; done) | cnn-load --text - | cnn-pool -f 3 -s 1 | cnn-save -o -"
	[ "${lines[0]}" = "3 4 5" ]
	[ "${lines[4]}" = "5 4 3" ]
}

@test "ceil mode rounds the size up" {
	run bash -c "for i in 1 2 3 4 5 6; do echo 1 2 3 4 5 6; done | cnn-load --text - | cnn-pool -f 3 -s 2 | cnn-info -r"
	[[ "$output" == *"1x2x2"* ]]
	run bash -c "for i in 1 2 3 4 5 6; do echo 1 2 3 4 5 6; done | cnn-load --text - | cnn-pool -f 3 -s 2 --ceil | cnn-info -r"
	[[ "$output" == *"1x3x3"* ]]
}

@test "padding never wins a max, and averages exclude it unless --count-pad" {
	run bash -c "printf -- '-1 -2\n-3 -4\n' | cnn-load --text - | cnn-pool -f 2 -s 2 -p 1 | cnn-save -o -"
	[ "$output" = "$(printf -- '-1 -2\n-3 -4')" ]
	run bash -c "printf '4 8\n' | cnn-load --text - | cnn-pool --avg -f 1,2 -s 1,2 -p 0,1 | cnn-save -o -"
	[ "$output" = "$(printf '4 8')" ]
	run bash -c "printf '4 8\n' | cnn-load --text - | cnn-pool --avg -f 1,2 -s 1,2 -p 0,1 --count-pad | cnn-save -o -"
	[ "$output" = "$(printf '2 4')" ]
}

@test "global average pooling" {
	run bash -c "$(declare -f pool_input); pool_input | cnn-load --text - | cnn-pool --avg --global | cnn-save -o -"
	[ "$output" = "3.625" ]
}

@test "max pooling keeps a u8 image u8" {
	run bash -c "cnn-load $SKIMAGE/astronaut.png | cnn-pool -f 2 | cnn-info -r"
	[[ "$output" == *"image=u8 3x256x256"* ]]
}

@test "bad input: a window larger than the image, no image tensor, usage" {
	run bash -c "printf '1 2\n3 4\n' | cnn-load --text - | cnn-pool -f 3 > /dev/null"
	assert_error cnn-pool '^cnn-pool: <stdin> record 1: '
	run bash -c "cnn-load $FASHION/t10k-labels-idx1-ubyte.gz | cnn-pool > /dev/null"
	assert_error cnn-pool 'record 1: no tensor "image"'
	run cnn-pool --global -f 2
	[ "$status" -eq 2 ]
	run cnn-pool -f x
	[ "$status" -eq 2 ]
}
