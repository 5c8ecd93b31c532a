# Shared set-up of the BATS files: the programs under test come first on
# PATH (scripts/run-tests sets CNN_BIN to the build directory).
export PATH="${CNN_BIN:-$BATS_TEST_DIRNAME/../../build}:$PATH"
DATA="$BATS_TEST_DIRNAME/../data"
SKIMAGE=/usr/lib/python3/dist-packages/skimage/data
FASHION=/usr/share/datasets/fashion-mnist
DARKNET=/usr/share/darknet/data

setup() {
	TMP="$BATS_TEST_TMPDIR"
}

# The course notes' 6x6 image (the 4x4 vertical-edge walk-through).
notes_image() {
	printf '3 0 1 2 7 4\n1 5 8 9 3 1\n2 7 2 5 1 3\n0 1 3 1 7 8\n4 2 1 6 2 8\n2 4 5 2 3 9\n'
}

# A text matrix as a one-record stream.
matrix() {
	cnn-load --text -
}

# A .npy file of dtype $1 and shape $2 holding the bytes $3 (printf escapes).
npy() {
	printf '\223NUMPY\001\000\166\000%-117s\n' "{'descr': '$1', 'fortran_order': False, 'shape': $2, }"
	printf "$3"
}

# The only stderr line must name the program and say what is wrong;
# the exit status must be 1.
assert_error() {
	local prog=$1 pattern=$2
	[ "$status" -eq 1 ] || { echo "status $status, want 1: $output"; return 1; }
	[ "${#lines[@]}" -eq 1 ] || { echo "want one line: $output"; return 1; }
	[[ "$output" == "$prog: "* ]] || { echo "no '$prog: ' prefix: $output"; return 1; }
	[[ "$output" =~ $pattern ]] || { echo "'$output' does not match '$pattern'"; return 1; }
}
