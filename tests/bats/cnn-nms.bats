load helper

# The course notes' worked vector (TV-14): B1..B6, one class.
notes_boxes() {
	printf '%s\n' 10,10,50,50,0.9,0 12,12,52,52,0.7,0 100,100,140,140,0.8,0 \
		102,98,142,138,0.6,0 45,45,85,85,0.65,0 200,200,220,220,0.3,0
}

# CSV boxes on standard input through cnn-nms OPTIONS, back to CSV rows.
nms() {
	cnn-boxes --from csv -t - --new | cnn-nms "$@" | cnn-boxes --to csv | tail -n +2
}

# A .npy array of f32 of the given shape, its bytes on standard input.
npy() {
	local h="{'descr': '<f4', 'fortran_order': False, 'shape': ($1), }"
	local pad=$(( (64 - (11 + ${#h}) % 64) % 64 ))
	h="$h$(printf '%*s' $pad '')"
	printf '\223NUMPY\001\000'
	printf "\\$(printf %03o $(( (${#h} + 1) & 255 )))\\$(printf %03o $(( (${#h} + 1) >> 8 )))"
	printf '%s\n' "$h"
	cat
}

@test "the notes' example: B1, B3 and B5 stay, best first" {
	run bash -c "$(declare -f notes_boxes nms); notes_boxes | nms"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '1,10,10,50,50,0.9,0\n1,100,100,140,140,0.8,0\n1,45,45,85,85,0.65,0')" ]
}

@test "--score 0 keeps B6; --iou 0.9 keeps all six in score order" {
	run bash -c "$(declare -f notes_boxes nms); notes_boxes | nms --score 0 | cut -d, -f2-5"
	[ "$output" = "$(printf '10,10,50,50\n100,100,140,140\n45,45,85,85\n200,200,220,220')" ]
	run bash -c "$(declare -f notes_boxes nms); notes_boxes | nms -s 0 -i 0.9 | cut -d, -f6"
	[ "$output" = "$(printf '0.9\n0.8\n0.7\n0.65\n0.6\n0.3')" ]
}

@test "per class by default, one NMS for all with -c" {
	run bash -c "$(declare -f nms); printf '0,0,10,10,0.9,1\n1,0,11,10,0.8,2\n' | nms"
	[ "${#lines[@]}" -eq 2 ]
	run bash -c "$(declare -f nms); printf '0,0,10,10,0.9,1\n1,0,11,10,0.8,2\n' | nms -c"
	[ "$output" = "1,0,0,10,10,0.9,1" ]
}

@test "soft-NMS decays instead of dropping: linear and Gaussian" {
	# X overlaps M by 50/100; Y overlaps nothing.
	boxes='0,0,10,10,0.9,0\n0,0,10,5,0.8,0\n20,0,30,10,0.45,0\n'
	run bash -c "$(declare -f nms); printf '$boxes' | nms -s 0 --soft linear -i 0.3 | cut -d, -f6"
	[ "$output" = "$(printf '0.9\n0.45\n0.4')" ]
	run bash -c "$(declare -f nms); printf '$boxes' | nms -s 0 --soft gaussian --sigma 0.5 | cut -d, -f6"
	[ "$output" = "$(printf '0.9\n0.48522455\n0.45')" ]
	run bash -c "$(declare -f nms); printf '$boxes' | nms -s 0 --soft linear -i 0.3 --final 0.42 | wc -l"
	[ "$output" = "2" ]
}

@test "--topk before NMS, --max after" {
	boxes='0,0,1,1,0.7,0\n2,0,3,1,0.9,0\n4,0,5,1,0.8,0\n'
	run bash -c "$(declare -f nms); printf '$boxes' | nms --topk 2 | cut -d, -f6"
	[ "$output" = "$(printf '0.9\n0.8')" ]
	run bash -c "$(declare -f nms); printf '$boxes' | nms -m 1 | cut -d, -f6"
	[ "$output" = "0.9" ]
}

@test "--diou keeps a box whose centre is far enough off" {
	# IoU 0.667, DIoU 0.650.
	run bash -c "$(declare -f nms); printf '0,0,10,10,0.9,0\n2,0,12,10,0.8,0\n' | nms -i 0.66 | wc -l"
	[ "$output" = "1" ]
	run bash -c "$(declare -f nms); printf '0,0,10,10,0.9,0\n2,0,12,10,0.8,0\n' | nms -i 0.66 --diou | wc -l"
	[ "$output" = "2" ]
}

@test "the other tensors pass unchanged; no boxes is fine" {
	run bash -c "cnn-load $DARKNET/dog.jpg | cnn-boxes --from csv -t /dev/null | cnn-nms | cnn-info -r"
	[ "$status" -eq 0 ]
	[ "$output" = "1: image=u8 3x576x768 boxes=f32 0x6" ]
}

@test "10,000 boxes, 100 classes" {
	run bash -c "awk 'BEGIN { srand(1); for (i = 0; i < 10000; i++) { x = rand() * 1000; y = rand() * 1000;
		printf \"%.2f,%.2f,%.2f,%.2f,%.3f,%d\n\", x, y, x + 20 + rand() * 40, y + 20 + rand() * 40, rand(), i % 100 } }' |
		cnn-boxes --from csv -t - --new | cnn-nms -s 0 | cnn-info -r"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^"1: boxes=f32 "[0-9]+x6$ ]]
}

@test "bad input: boxes of the wrong shape in record 3, no boxes, a NaN score" {
	printf '1,0,0,1,1,0.9,0\n2,0,0,1,1,0.9,0\n' | cnn-boxes --from csv -t - --new > "$TMP/two.cnn"
	head -c 80 /dev/zero | npy "1, 5, 4" > "$TMP/wrong.npy"
	cnn-load boxes="$TMP/wrong.npy" > "$TMP/wrong.cnn"
	run bash -c "cat '$TMP/two.cnn' '$TMP/wrong.cnn' | cnn-nms > /dev/null"
	assert_error cnn-nms '^cnn-nms: <stdin> record 3: tensor "boxes" is f32 5x4, want N x 6$'
	run bash -c "cnn-load $DARKNET/dog.jpg | cnn-nms > /dev/null"
	assert_error cnn-nms '^cnn-nms: <stdin> record 1: no tensor "boxes"$'
	# 0, 0, 1, 1, NaN, 0 as little-endian floats.
	printf '\0\0\0\0\0\0\0\0\0\0\200\077\0\0\200\077\0\0\300\177\0\0\0\0' | npy "1, 1, 6" > "$TMP/nan.npy"
	run bash -c "cnn-load --allow-nonfinite boxes='$TMP/nan.npy' | cnn-nms > /dev/null"
	assert_error cnn-nms '^cnn-nms: <stdin> record 1: tensor "boxes": box 1: score is nan$'
}

@test "usage errors exit 2" {
	run cnn-nms --iou 2
	[ "$status" -eq 2 ]
	run cnn-nms --soft cubic
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "cnn-nms: --soft: 'cubic' is not linear or gaussian" ]]
	run cnn-nms --diou --soft linear
	[ "$status" -eq 2 ]
	run cnn-nms --topk 0
	[ "$status" -eq 2 ]
}
