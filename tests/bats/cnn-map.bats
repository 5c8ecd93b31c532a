load helper

# The hand-worked example of tests/unit/test_detmetrics.c: two images,
# cat (0) and dog (1), detections and ground truth.
hand_worked() {
	printf '1,1,0,11,10,0.8,0\n1,20,0,30,12,0.7,1\n1,0,0,10,10,0.9,0\n2,0,0,20,10,0.6,0\n2,0,0,10,10,0.95,1\n' |
		cnn-boxes --from csv -t - --new |
		cnn-boxes --from csv -f boxes_true -t <(printf '1,0,0,10,10,1,0\n1,20,0,30,10,1,1\n2,0,0,20,20,1,0\n2,50,50,60,60,1,1\n')
}

@test "the hand-worked example's APs" {
	run bash -c "$(declare -f hand_worked); hand_worked | cnn-map -N <(printf 'cat\ndog\n')"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "class  truths    dets   VOC11     VOC    COCO    AP50    AP75" ]
	[ "${lines[1]}" = "cat         2       3  0.8485  0.8333  0.5380  0.8350  0.5050" ]
	[ "${lines[2]}" = "dog         2       2  0.2727  0.2500  0.1767  0.2525  0.2525" ]
	[ "${lines[3]}" = "mAP         4       5  0.5606  0.5417  0.3573  0.5437  0.3787" ]
}

@test "the precision-recall curve as CSV and as a picture" {
	run bash -c "$(declare -f hand_worked); hand_worked | cnn-map --pr '$TMP/pr.csv' --plot '$TMP/pr.png' --plot-size 640x480 > /dev/null"
	[ "$status" -eq 0 ]
	run cat "$TMP/pr.csv"
	[ "${lines[0]}" = "class,name,rank,score,tp,fp,precision,recall" ]
	[ "${lines[3]}" = "0,,3,0.6,2,1,0.666667,1.000000" ]
	[ "${#lines[@]}" -eq 6 ]
	run bash -c "cnn-load '$TMP/pr.png' | cnn-info -r"
	[ "$output" = "1: image=u8 3x480x640" ]
}

@test "detections equal to the truth score 1; a class without truths has no AP" {
	run bash -c "printf '1,0,0,10,10,0.9,2\n2,5,5,9,9,0.8,2\n2,0,0,3,3,0.5,4\n' | cnn-boxes --from csv -t - --new |
		cnn-boxes --from csv -f boxes_true -t <(printf '1,0,0,10,10,1,2\n2,5,5,9,9,1,2\n') | cnn-map"
	[ "${lines[1]}" = "2           2       2  1.0000  1.0000  1.0000  1.0000  1.0000" ]
	[ "${lines[2]}" = "4           0       1       -       -       -       -       -" ]
	[ "${lines[3]}" = "mAP         2       3  1.0000  1.0000  1.0000  1.0000  1.0000" ]
}

@test "bad input: no ground truth, no detections, usage" {
	run bash -c "printf '0,0,1,1,1,0\n' | cnn-boxes --from csv -t - --new | cnn-map"
	assert_error cnn-map '^cnn-map: <stdin> record 1: no tensor "boxes_true"$'
	run bash -c "printf '0,0,1,1,1,0\n' | cnn-boxes --from csv -t - --new -f boxes_true | cnn-map"
	assert_error cnn-map '^cnn-map: <stdin> record 1: no tensor "boxes"$'
	run cnn-map --plot-size 10x10
	[ "$status" -eq 2 ]
	run cnn-map --bogus
	[ "$status" -eq 2 ]
}
