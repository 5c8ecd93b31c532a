load helper

LOG='epoch=1 step=10 loss=0.9 acc=0.6 val_loss=0.8 val_acc=0.65 lr=0.01 seconds=1 images_per_s=10
step=15 epoch=2 loss=0.7 acc=0.7 lr=0.01
epoch=2 step=20 loss=0.5 acc=0.8 val_loss=0.6 val_acc=0.75 lr=0.01 seconds=1 images_per_s=10
epoch=3 step=30 loss=0.4 acc=0.85 val_loss=0.55 val_acc=0.78 lr=0.01 seconds=1 images_per_s=10'

@test "a log becomes loss and accuracy curves" {
	echo "$LOG" > "$TMP/a.log"
	run cnn-plot -o "$TMP/c.png" "$TMP/a.log"
	[ "$status" -eq 0 ]
	run bash -c "cnn-load '$TMP/c.png' | cnn-info -r"
	[ "$output" = "1: image=u8 3x600x800" ]
	# Curves are drawn in colour: the picture is not just grey.
	run bash -c "cnn-load '$TMP/c.png' | cnn-conv -k '1;-1' --depthwise | cnn-info"
	[ "$status" -eq 0 ]
}

@test "several logs, by step, from standard input" {
	echo "$LOG" > "$TMP/a.log"
	echo "$LOG" | sed 's/loss=0/loss=1/' > "$TMP/b.log"
	run cnn-plot -x step -W 400 -o "$TMP/c.png" "$TMP/a.log" "$TMP/b.log"
	[ "$status" -eq 0 ]
	run bash -c "echo '$LOG' | cnn-plot --log-loss -o '$TMP/d.png' && cnn-load '$TMP/d.png' | cnn-info -r"
	[ "$output" = "1: image=u8 3x600x800" ]
}

@test "bad input" {
	echo "hello" > "$TMP/x.log"
	run cnn-plot -o "$TMP/c.png" "$TMP/x.log"
	assert_error cnn-plot 'x.log: no epoch lines'
	run cnn-plot "$TMP/x.log"
	[ "$status" -eq 2 ]
	run cnn-plot -x time -o a.png
	[ "$status" -eq 2 ]
}
