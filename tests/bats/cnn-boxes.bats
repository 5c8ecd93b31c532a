load helper

# Boxes of two records, as CSV with record numbers.
two_records() {
	printf 'record,x1,y1,x2,y2,score,class\n1,125,135,567,420,0.92,1\n1,133,220,310,542,0.98,16\n'
	printf '2,0.5,1.25,3.75,4,0.125,0\n'
}

@test "CSV in and out again, byte for byte" {
	run bash -c "$(declare -f two_records); two_records | cnn-boxes --from csv -t - --new | cnn-boxes --to csv"
	[ "$status" -eq 0 ]
	[ "$output" = "$(two_records)" ]
}

@test "JSON lines, with class names; and read back" {
	run bash -c "$(declare -f two_records); two_records | cnn-boxes --from csv -t - --new | cnn-boxes --to json -N $DARKNET/coco.names"
	[ "${lines[0]}" = '{"record":1,"boxes":[{"x1":125,"y1":135,"x2":567,"y2":420,"score":0.92,"class":1,"name":"bicycle"},{"x1":133,"y1":220,"x2":310,"y2":542,"score":0.98,"class":16,"name":"dog"}]}' ]
	[ "${lines[1]}" = '{"record":2,"boxes":[{"x1":0.5,"y1":1.25,"x2":3.75,"y2":4,"score":0.125,"class":0,"name":"person"}]}' ]
	printf '%s\n' "${lines[@]}" > "$TMP/b.json"
	run bash -c "cnn-boxes --from json -t '$TMP/b.json' --new | cnn-boxes --to csv | tail -n +2 | wc -l"
	[ "$output" = "3" ]
}

@test "attach to an image's record; darknet labels relative to its size" {
	run bash -c "$(declare -f two_records); two_records | head -3 |
		cnn-boxes --from csv -t - <(cnn-load $DARKNET/dog.jpg) | cnn-boxes --to darknet"
	[ "$status" -eq 0 ]
	# (125 + 567) / 2 / 768 = 0.450521, (135 + 420) / 2 / 576 = 0.481771 ...
	[ "${lines[0]}" = "1 0.450521 0.481771 0.575521 0.494792 0.920000" ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "ground truth from darknet label files, one per record" {
	printf '16 0.5 0.5 0.25 0.5\n' > "$TMP/a.txt"
	printf '1 0.25 0.25 0.5 0.5\n7 0.5 0.5 0.1 0.1\n' > "$TMP/b.txt"
	run bash -c "cnn-boxes --from darknet -t '$TMP/a.txt' -t '$TMP/b.txt' -f boxes_true --new --size 200x100 |
		cnn-boxes --to csv -f boxes_true"
	[ "$output" = "$(printf 'record,x1,y1,x2,y2,score,class\n1,75,25,125,75,1,16\n2,0,0,100,50,1,1\n2,90,45,110,55,1,7')" ]
	run bash -c "cnn-boxes --from darknet -t '$TMP/b.txt' --new -S 200x100 -f boxes_true | cnn-boxes --to darknet -S 200x100 -f boxes_true"
	[ "$output" = "$(printf '1 0.250000 0.250000 0.500000 0.500000\n7 0.500000 0.500000 0.100000 0.100000')" ]
}

@test "darknet's -ext_output log, chatter and all" {
	printf '%s\n' 'data/dog.jpg: Predicted in 25.139000 milli-seconds.' \
		'bicycle: 92%	(left_x:  114   top_y:  128   width:  458   height:  299)' \
		'dog: 98%	(left_x:  129   top_y:  225   width:  184   height:  317)' \
		'truck: 92%	(left_x:  464   top_y:   77   width:  221   height:   93)' \
		'Enter Image Path: data/eagle.jpg: Predicted in 24.1 milli-seconds.' \
		'bird: 95%	(left_x:  117   top_y:   76   width:  524   height:  312)' > "$TMP/log.txt"
	run bash -c "cnn-boxes --from darknet-ext -N $DARKNET/coco.names -t '$TMP/log.txt' --new | cnn-boxes --to csv"
	[ "${lines[3]}" = "1,464,77,685,170,0.92,7" ]
	[ "${lines[4]}" = "2,117,76,641,388,0.95,14" ]
}

@test "darknet labels of several records need a %d pattern" {
	run bash -c "$(declare -f two_records); two_records | cnn-boxes --from csv -t - --new | cnn-boxes --to darknet -S 10x10 > /dev/null"
	assert_error cnn-boxes 'record 2: darknet labels hold one image each: give --output a %d pattern'
	run bash -c "$(declare -f two_records); two_records | cnn-boxes --from csv -t - --new | cnn-boxes --to darknet -S 1000x1000 -o '$TMP/lab-%02d.txt'"
	[ "$status" -eq 0 ]
	[ "$(cat "$TMP/lab-01.txt")" = "0 0.002125 0.002625 0.003250 0.002750 0.125000" ]
}

@test "a shorter text leaves the later records without boxes; a longer one is an error" {
	run bash -c "cnn-load $DARKNET/dog.jpg $DARKNET/eagle.jpg $DARKNET/horses.jpg |
		cnn-boxes --from csv -t <(printf '2,0,0,1,1,1,0\n') | cnn-info -r"
	[ "${lines[0]}" = "1: image=u8 3x576x768 boxes=f32 0x6" ]
	[ "${lines[1]}" = "2: image=u8 3x512x773 boxes=f32 1x6" ]
	[ "${lines[2]}" = "3: image=u8 3x512x773 boxes=f32 0x6" ]
	printf '3,0,0,1,1,1,0\n' > "$TMP/three.csv"
	run bash -c "cnn-load $DARKNET/dog.jpg $DARKNET/eagle.jpg | cnn-boxes --from csv -t '$TMP/three.csv' > /dev/null"
	assert_error cnn-boxes "three.csv: more records of boxes than the stream's 2$"
}

@test "bad text: a line of 5 numbers, x2 < x1, a name not among the names" {
	printf '1,0,0,1,1,1,0\n1,0,0,1,1\n' > "$TMP/bad.csv"
	run bash -c "cnn-boxes --from csv -t '$TMP/bad.csv' --new > /dev/null"
	assert_error cnn-boxes "bad.csv:2: want 6 or 7 numbers separated by commas$"
	run bash -c "printf '5,0,1,1,1,0\n' | cnn-boxes --from csv -t - --new > /dev/null"
	assert_error cnn-boxes "<stdin>: record 1: box 1: x2 1 < x1 5$"
	run bash -c "printf '{\"boxes\":[{\"x1\":0,\"y1\":0,\"x2\":1,\"y2\":1,\"name\":\"unicorn\"}]}' |
		cnn-boxes --from json -N $DARKNET/coco.names -t - --new > /dev/null"
	assert_error cnn-boxes 'line 1: record 1 box 1: class "unicorn" is not among the names$'
}

@test "usage errors exit 2" {
	run cnn-boxes
	[ "$status" -eq 2 ]
	run cnn-boxes --to csv --from csv
	[ "$status" -eq 2 ]
	run cnn-boxes --to xml
	[ "$status" -eq 2 ]
	run cnn-boxes --from csv
	[ "$status" -eq 2 ]
	run cnn-boxes --from darknet-ext -t x
	[ "$status" -eq 2 ]
	run cnn-boxes --from csv -t -
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "cnn-boxes: the text and the stream cannot both be standard input" ]
}
