load helper

# Data safety across the programs: named outputs are replaced whole or not
# at all, an input is never the output, every write is checked, and faults
# (a full disk, a size limit, kill -9, signals, failed allocations) end in
# one line and no partial file.

LENET="$BATS_TEST_DIRNAME/../../examples/zoo/lenet5.cfg"

setup_file() {
	export PATH="${CNN_BIN:-$BATS_TEST_DIRNAME/../../build}:$PATH"
	D=/usr/share/datasets/fashion-mnist
	export SMALL="$BATS_FILE_TMPDIR/small.cnn"
	cnn-load $D/t10k-images-idx3-ubyte.gz $D/t10k-labels-idx1-ubyte.gz | cnn-head -n 300 > "$SMALL"
}

teardown() {
	if [ -n "${MOUNTED:-}" ]; then umount "$MOUNTED"; fi
}

# The files in a folder, hidden ones too: no temporary file may be left.
files_in() {
	ls -A "$1" | tr '\n' ' '
}

@test "a run that fails leaves the old output as it was, and no temporary file" {
	mkdir "$TMP/d"
	echo precious > "$TMP/d/out.cnn"
	head -c 3000 "$SMALL" > "$TMP/cut.cnn"
	run cnn-conv -k box -o "$TMP/d/out.cnn" "$TMP/cut.cnn"
	assert_error cnn-conv 'truncated'
	[ "$(cat "$TMP/d/out.cnn")" = precious ]
	[ "$(files_in "$TMP/d")" = "out.cnn " ]
	run cnn-save -o "$TMP/d/out.cnn.txt" "$TMP/cut.cnn"
	[ "$status" -eq 1 ]
	[ "$(files_in "$TMP/d")" = "out.cnn " ]
}

@test "a run that succeeds replaces the output, keeping its permissions and links" {
	mkdir "$TMP/d"
	echo old > "$TMP/d/real.cnn"
	chmod 640 "$TMP/d/real.cnn"
	ln -s real.cnn "$TMP/d/link.cnn"
	cnn-head -n 2 -o "$TMP/d/link.cnn" "$SMALL"
	[ -L "$TMP/d/link.cnn" ]
	[ "$(stat -c %a "$TMP/d/real.cnn")" = 640 ]
	[ "$(cnn-info "$TMP/d/real.cnn" | head -1)" = "2 records" ]
	[ "$(files_in "$TMP/d")" = "link.cnn real.cnn " ]
}

@test "an input that is also the output is refused before anything is read" {
	cp "$SMALL" "$TMP/a.cnn"
	ln "$TMP/a.cnn" "$TMP/hard.cnn"
	for cmd in "cnn-head -n 5 -o $TMP/a.cnn $TMP/a.cnn" \
		"cnn-shuffle -o $TMP/a.cnn $TMP/a.cnn" \
		"cnn-conv -k box -o $TMP/hard.cnn $TMP/a.cnn" \
		"cnn-train -m $LENET -o $TMP/a.cnn $TMP/a.cnn" \
		"cnn-train -m $LENET -o $TMP/m.cnnm -v $TMP/m.cnnm $TMP/a.cnn"; do
		touch "$TMP/m.cnnm"
		run $cmd
		[ "$status" -eq 2 ] || { echo "$cmd: status $status: $output"; return 1; }
		[[ "${lines[0]}" == *"is both an input and the output"* ]]
		cmp "$SMALL" "$TMP/a.cnn"
	done
	cp "$DARKNET/dog.jpg" "$TMP/dog.jpg"
	run cnn-load -o "$TMP/dog.jpg" "$TMP/dog.jpg"
	[ "$status" -eq 2 ]
	cmp "$DARKNET/dog.jpg" "$TMP/dog.jpg"
}

@test "cnn-train never empties MODEL: a typo on --resume, a failed fresh run" {
	cnn-train -m "$LENET" -e 1 -o "$TMP/run.cnnm" "$SMALL" > /dev/null
	cp "$TMP/run.cnnm" "$TMP/before"
	run cnn-train --resume -o "$TMP/run.cnnm" "$TMP/tarin.cnn"
	assert_error cnn-train 'tarin.cnn: No such file'
	cmp "$TMP/before" "$TMP/run.cnnm"
	run cnn-train -m "$LENET" -o "$TMP/run.cnnm" "$TMP/nosuch.cnn"
	[ "$status" -eq 1 ]
	cmp "$TMP/before" "$TMP/run.cnnm"
	run cnn-train -m "$LENET" -o "$TMP/no/such/dir/run.cnnm" "$SMALL"
	assert_error cnn-train 'cannot create a file beside it'
}

@test "during a resumed run MODEL always holds a whole model" {
	cnn-train -m "$LENET" -e 1 -o "$TMP/run.cnnm" "$SMALL" > /dev/null
	cnn-train -j 1 --resume --checkpoint 1 -e 30 -o "$TMP/run.cnnm" "$SMALL" > /dev/null &
	pid=$!
	looked=0
	while kill -0 $pid 2>/dev/null; do
		cnn-info "$TMP/run.cnnm" > /dev/null
		looked=$((looked + 1))
	done
	wait $pid
	[ "$looked" -ge 5 ]
}

@test "kill -9 at random moments of training: every MODEL left loads and resumes" {
	for run in 1 2 3 4 5 6; do
		rm -f "$TMP/k.cnnm"
		# Far more epochs than the time it gets, so that the kill always lands.
		cnn-train -j 1 -S $run -m "$LENET" --checkpoint 1 -e 100000 -o "$TMP/k.cnnm" "$SMALL" > /dev/null &
		pid=$!
		sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
		kill -9 $pid
		wait $pid || true
		[ -e "$TMP/k.cnnm" ] || continue
		cnn-info "$TMP/k.cnnm" > /dev/null
		epoch=$(cnn-head -n 1 "$TMP/k.cnnm" | cnn-save -f epoch -o -)
		run cnn-train -j 1 --resume -e $((epoch + 2)) -o "$TMP/k.cnnm" "$SMALL"
		[ "$status" -eq 0 ] || { echo "run $run: $output"; return 1; }
		[[ "${lines[-1]}" == epoch=$((epoch + 2))\ * ]]
	done
}

@test "a signal ends a run without a temporary file, the old output intact" {
	mkdir "$TMP/d"
	echo precious > "$TMP/d/out.cnn"
	(cat "$SMALL"; sleep 30) | cnn-head -n 100000 -o "$TMP/d/out.cnn" &
	pid=$!
	while [ "$(files_in "$TMP/d")" = "out.cnn " ]; do sleep 0.01; done
	pkill -TERM -f "cnn-head -n 100000 -o $TMP/d/out.cnn"
	wait $pid || true
	[ "$(cat "$TMP/d/out.cnn")" = precious ]
	[ "$(files_in "$TMP/d")" = "out.cnn " ]
}

@test "an ignored SIGHUP (nohup) stays ignored; otherwise it ends the run cleanly" {
	mkdir "$TMP/d"
	(trap '' HUP; exec cnn-head -n 100000 -o "$TMP/d/kept.cnn" <(cat "$SMALL"; sleep 1)) &
	pid=$!
	sleep 0.3
	kill -HUP $pid
	wait $pid
	[ "$(cnn-info "$TMP/d/kept.cnn" | head -1)" = "300 records" ]
	cnn-head -n 100000 -o "$TMP/d/gone.cnn" <(cat "$SMALL"; sleep 1) &
	pid=$!
	sleep 0.3
	kill -HUP $pid
	status=0
	wait $pid || status=$?
	[ "$status" -eq 129 ]
	[ "$(files_in "$TMP/d")" = "kept.cnn " ]
}

@test "a full disk: one line, exit 1, the old file intact, no temporary file" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a small tmpfs"
	mkdir "$TMP/disk"
	mount -t tmpfs -o size=64k tmpfs "$TMP/disk"
	MOUNTED="$TMP/disk"
	echo precious > "$TMP/disk/out.cnn"
	for cmd in "cnn-head -z 0 -o $TMP/disk/out.cnn $SMALL" \
		"cnn-save -o $TMP/disk/out.cnn.npy $SMALL" \
		"cnn-train -m $LENET -e 1 -o $TMP/disk/out.cnn $SMALL"; do
		run $cmd
		[ "$status" -eq 1 ] || { echo "$cmd: status $status: $output"; return 1; }
		[[ "${lines[-1]}" == *"No space left on device"* ]]
		[ "$(cat "$TMP/disk/out.cnn")" = precious ]
		[ "$(files_in "$TMP/disk")" = "out.cnn " ]
	done
}

@test "a write cut short by the file size limit: one line, exit 1, the old file intact" {
	mkdir "$TMP/d"
	echo precious > "$TMP/d/out.cnn"
	run bash -c "ulimit -f 64; cnn-head -z 0 -o '$TMP/d/out.cnn' '$SMALL'"
	assert_error cnn-head 'File too large'
	[ "$(cat "$TMP/d/out.cnn")" = precious ]
	[ "$(files_in "$TMP/d")" = "out.cnn " ]
}

@test "text to a full standard output is an error: one line, exit 1" {
	cnn-train -m "$LENET" -e 1 -o "$TMP/m.cnnm" "$SMALL" > /dev/null
	cnn-predict -m "$TMP/m.cnnm" "$SMALL" > "$TMP/p.cnn"
	for cmd in "cnn-info $SMALL" "cnn-eval $TMP/p.cnn" "cnn-predict -t -m $TMP/m.cnnm $SMALL" \
		"cnn-summary $LENET" "cnn-train -m $LENET -e 1 -o $TMP/m2.cnnm $SMALL" \
		"cnn-save -o - $SMALL"; do
		run bash -c "$cmd > /dev/full"
		[ "$status" -eq 1 ] || { echo "$cmd: status $status: $output"; return 1; }
		[ "${#lines[@]}" -eq 1 ] || { echo "$cmd: $output"; return 1; }
		[[ "${lines[0]}" == cnn-*"No space left on device" ]] || { echo "$cmd: $output"; return 1; }
	done
	[ ! -e "$TMP/m2.cnnm" ]
}

@test "--help and --version to a full standard output: exit 1 for every program" {
	for prog in "$CNN_BIN"/cnn-*; do
		for opt in --help --version; do
			run bash -c "'$prog' $opt > /dev/full"
			[ "$status" -eq 1 ] || { echo "$prog $opt: status $status"; return 1; }
			[[ "$output" == *"write error"* ]]
		done
	done
}

# Fail the Nth allocation of a command, for N from 1 in steps of $2 up to
# $3: every run must succeed or end in one line "PROGRAM: ...out of
# memory..." with exit 1, and leave no output file.  Prints how many failed.
sweep() {
	local cmd=$1 step=$2 last=$3 prog=${1%% *} failed=0 n status
	for n in $(seq 1 "$step" "$last"); do
		rm -f "$TMP/out"
		status=0
		CNN_FAIL_ALLOC_AT=$n LD_PRELOAD="$CNN_BIN/tests/failmalloc.so" $cmd \
			> /dev/null 2> "$TMP/err" || status=$?
		[ "$status" -le 1 ] || { echo "$prog at $n: status $status: $(cat "$TMP/err")" >&2; return 1; }
		[ "$status" -eq 0 ] && continue
		failed=$((failed + 1))
		[ "$(wc -l < "$TMP/err")" -eq 1 ] &&
			grep -q "^$prog: .*out of memory" "$TMP/err" &&
			! grep -q 'learning rate' "$TMP/err" &&
			[ ! -e "$TMP/out" ] || { echo "$prog at $n: $(cat "$TMP/err")" >&2; return 1; }
	done
	echo "$failed"
}

@test "a failed allocation anywhere ends in one line and exit 1, never a crash" {
	[ -z "${CNN_SANITIZE:-}" ] || skip "the sanitizers have an allocator of their own"
	cnn-train -m "$LENET" -e 1 -o "$TMP/m.cnnm" "$SMALL" > /dev/null
	# Early requests fail; the later ones (in steady state) all succeed.
	failed=$(sweep "cnn-train -j 2 -m $LENET -e 1 -o $TMP/out $SMALL" 37 3000)
	[ "$failed" -ge 20 ]
	failed=$(sweep "cnn-predict -j 2 -m $TMP/m.cnnm -o $TMP/out $SMALL" 53 1500)
	[ "$failed" -ge 10 ]
	failed=$(sweep "cnn-augment -j 2 --flip --crop 28,pad=2 --rotate 10 -o $TMP/out $SMALL" 53 1500)
	[ "$failed" -ge 10 ]
	run env CNN_FAIL_ALLOC_OVER=1000000 LD_PRELOAD="$CNN_BIN/tests/failmalloc.so" cnn-load "$DARKNET/dog.jpg"
	assert_error cnn-load 'out of memory'
}
