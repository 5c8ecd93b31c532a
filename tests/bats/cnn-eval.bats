load helper

# Two 2 x 3 masks worked by hand (VOC's 255 ignored):
#   truth 0 0 1 / 1 2 255  and  2 2 0 / 0 1 1
#   pred  0 1 1 / 1 2 0    and  2 0 0 / 0 1 2
# confusion [3 1 0; 0 3 1; 1 0 2]: 8 of 11 pixels right; IoU 3/5, 3/5,
# 2/4 (mean 0.5667), Dice 6/8, 6/8, 4/6 (mean 0.7222).  Counting the 255
# pixel (--ignore -1, predicted 0) makes 255 a class of IoU 0 and class 0's
# 3/6: mean (0.5 + 0.6 + 0.5 + 0) / 4.
@test "cnn-eval on mask and mask_true: pixel accuracy, IoU and Dice per class, their means, the confusion" {
	npy '|u1' '(2, 2, 3)' '\000\000\001\001\002\377\002\002\000\000\001\001' > "$TMP/truth.npy"
	npy '|u1' '(2, 2, 3)' '\000\001\001\001\002\000\002\000\000\000\001\002' > "$TMP/pred.npy"
	cnn-load mask="$TMP/pred.npy" mask_true="$TMP/truth.npy" > "$TMP/m.cnn"
	run cnn-eval "$TMP/m.cnn"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "records 2" ]
	[ "${lines[1]}" = "pixels 11" ]
	[ "${lines[2]}" = "pixel accuracy 0.7273" ]
	[ "${lines[3]}" = "mean IoU 0.5667 (3 classes)" ]
	[ "${lines[4]}" = "mean Dice 0.7222" ]
	[[ "$output" == *"2               0.6667    0.5000    0.6667          3"* ]]
	[[ "${lines[-1]}" =~ ^2\ +1\ +0\ +2$ ]]
	run cnn-eval --ignore -1 -q "$TMP/m.cnn"
	[ "${lines[1]}" = "pixels 12" ]
	[ "${lines[3]}" = "mean IoU 0.4000 (4 classes)" ]
}

@test "cnn-eval on masks: masks of two sizes, a class that is no whole number: one line" {
	npy '|u1' '(1, 2, 3)' '\000\000\001\001\002\002' > "$TMP/truth.npy"
	npy '|u1' '(1, 3, 2)' '\000\000\001\001\002\002' > "$TMP/pred.npy"
	cnn-load mask="$TMP/pred.npy" mask_true="$TMP/truth.npy" > "$TMP/m.cnn"
	run cnn-eval "$TMP/m.cnn"
	assert_error cnn-eval 'record 1: tensor "mask" is u8 3x2, "mask_true" u8 2x3: masks of one size'
	npy '<f4' '(1, 1, 2)' '\000\000\000\000\000\000\300\077' > "$TMP/pred.npy"
	npy '|u1' '(1, 1, 2)' '\000\001' > "$TMP/truth.npy"
	cnn-load mask="$TMP/pred.npy" mask_true="$TMP/truth.npy" > "$TMP/m.cnn"
	run cnn-eval "$TMP/m.cnn"
	assert_error cnn-eval 'record 1: tensor "mask" pixel 1 is 1.5, not a class'
}
