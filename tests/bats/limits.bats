# Readers' memory follows their input, not what its headers claim: a file
# of a few bytes that claims gigabytes is refused (or found truncated)
# within a small address space, with the usual one line and exit 1.
load helper

# Run a command in 400 MB of address space, a tenth of what the lying
# headers below claim.  The sanitizers reserve terabytes of shadow space,
# so there only the message is checked.
small() {
	if [ -n "$CNN_SANITIZE" ]; then
		run bash -c "$1"
	else
		run bash -c "ulimit -v 400000; $1"
	fi
}

@test "stream: a 49-byte record claiming a 4 GiB tensor is truncated" {
	printf 'CNNR\001\000\001\000\015\000\000\000\001\000\000\000\001\001\001\000x\000\000\000\000\001\000\000\000twenty bytes of data' > "$TMP/big.cnn"
	small "cnn-info '$TMP/big.cnn'"
	assert_error cnn-info 'big.cnn record 1: truncated record$'
	small "cnn-info < '$TMP/big.cnn'"
	assert_error cnn-info '<stdin> record 1: truncated record$'
}

@test "stream: the same inside a zstd frame" {
	printf 'CNNR\001\000\001\000\015\000\000\000\001\000\000\000\001\001\001\000x\000\000\000\000\001\000\000\000twenty bytes of data' | zstd -q -c > "$TMP/big.cnn"
	small "cnn-info '$TMP/big.cnn'"
	assert_error cnn-info 'big.cnn record 1: truncated record$'
}

@test "stream: a zstd frame asking for a 2 GiB window is refused" {
	printf '\050\265\057\375\000\250' > "$TMP/window.cnn"
	small "cnn-info '$TMP/window.cnn'"
	assert_error cnn-info 'window.cnn record 1: a zstd frame whose window is over 128 MiB'
}

@test "stream: level 22, the largest window we write, still reads" {
	cnn-load $SKIMAGE/astronaut.png | cnn-conv -k identity -z 22 > "$TMP/22.cnn"
	run cnn-info "$TMP/22.cnn"
	[ "$status" -eq 0 ]
}

@test "IDX: a 12-byte file claiming a 2 GiB item, plain or gzipped" {
	printf '\000\000\010\002\000\000\000\001\200\000\000\000' > "$TMP/big.idx"
	small "cnn-load '$TMP/big.idx' > /dev/null"
	assert_error cnn-load 'big.idx: item 0: truncated$'
	gzip -c "$TMP/big.idx" > "$TMP/big.idx.gz"
	small "cnn-load '$TMP/big.idx.gz' > /dev/null"
	assert_error cnn-load 'big.idx.gz: item 0: truncated$'
}

@test "IDX and .npy: billions of empty items are refused, not looped over" {
	printf '\000\000\010\003\377\377\377\377\000\000\000\001\000\000\000\000' > "$TMP/empty.idx"
	run timeout 60 cnn-load "$TMP/empty.idx"
	assert_error cnn-load 'empty.idx: 4294967295 items of no values \(a dimension is 0\)$'
	dict="{'descr': '<f4', 'fortran_order': False, 'shape': (3000000000, 0), }"
	{ printf '\223NUMPY\001\000'; printf "\\$(printf %03o $((${#dict} + 1)))\\000"; printf '%s\n' "$dict"; } > "$TMP/empty.npy"
	run timeout 60 cnn-load "$TMP/empty.npy"
	assert_error cnn-load 'empty.npy: 3000000000 items of no values'
}

# A PNG of w x h RGBA (8-bit) whose one IDAT inflates to ten zero bytes.
lying_png() {
	python3 - "$1" "$2" "$3" <<'PY'
import struct, sys, zlib
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
w, interlace = int(sys.argv[2]), int(sys.argv[3])
ihdr = struct.pack('>IIBBBBB', w, w, 8, 6, 0, 0, interlace)
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) +
    chunk(b'IDAT', zlib.compress(b'\0' * 10)) + chunk(b'IEND', b''))
PY
}

@test "PNG: a 68-byte file claiming 16384x16384 RGBA (1 GiB)" {
	lying_png "$TMP/big.png" 16384 0
	[ "$(stat -c %s "$TMP/big.png")" -eq 68 ]
	small "cnn-load '$TMP/big.png' > /dev/null"
	assert_error cnn-load 'big.png: PNG: Not enough image data$'
	lying_png "$TMP/adam7.png" 16384 1
	small "cnn-load '$TMP/adam7.png' > /dev/null"
	assert_error cnn-load 'adam7.png: PNG: Not enough image data$'
}

@test "JPEG: cut in its scan with an EOI appended is an error, not gray" {
	size=$(stat -c %s $DARKNET/dog.jpg)
	{ head -c $((size / 2)) $DARKNET/dog.jpg; printf '\377\331'; } > "$TMP/cut.jpg"
	run cnn-load "$TMP/cut.jpg"
	assert_error cnn-load 'cut.jpg: JPEG: Corrupt JPEG data: premature end of data segment$'
}

@test "JPEG: bytes flipped in the entropy data are an error" {
	size=$(stat -c %s $DARKNET/dog.jpg)
	cp $DARKNET/dog.jpg "$TMP/flip.jpg"
	printf '\125\252\125\252\125\252\125\252' |
		dd of="$TMP/flip.jpg" bs=1 seek=$((size * 7 / 10)) conv=notrunc 2>/dev/null
	run cnn-load "$TMP/flip.jpg"
	assert_error cnn-load 'flip.jpg: JPEG: Corrupt JPEG data'
	run cnn-load $DARKNET/dog.jpg
	[ "$status" -eq 0 ]
}

@test "cfg: a few lines claiming 2 GiB of weights are refused before allocating" {
	printf '[net]\nchannels=65536\nheight=1\nwidth=1\n[connected]\noutput=8192\n' > "$TMP/big.cfg"
	run bash -c "CNN_MAX_TENSOR_BYTES=67108864 cnn-summary '$TMP/big.cfg'"
	assert_error cnn-summary 'big.cfg:5: \[connected\]: weight: shape too large \(over 67108864 bytes\)'
	printf '[net]\ninputs=4\n[connected]\noutput=2\n[route]\nlayers=8444444444\n' > "$TMP/route.cfg"
	run cnn-summary "$TMP/route.cfg"
	assert_error cnn-summary 'route.cfg:5: \[route\]: layers=8444444444 is not an earlier layer$'
}

@test "JPEG: a progressive file of 1.5 KB claiming 16000x16000 asks libjpeg for no gigabytes" {
	f="$BATS_TEST_DIRNAME/../fuzz/regress/jpeg/progressive-claims-16000x16000.jpg"
	small "CNN_MAX_TENSOR_BYTES=67108864 cnn-load '$f' > /dev/null"
	assert_error cnn-load '16000x16000 pixels of 3 channels is over CNN_MAX_TENSOR_BYTES \(67108864 bytes\)$'
}

@test "JPEG: arithmetic coding and restart markers decode; cut short at a marker, an error at once" {
	R="$BATS_TEST_DIRNAME/../fuzz/regress/jpeg"
	a=$(cnn-load "$R/arithmetic-restarts.jpg" | cnn-save -o -)
	h=$(cnn-load "$R/huffman-restarts.jpg" | cnn-save -o -)
	[ "$a" = "$h" ]
	[ "$(cnn-load "$R/arithmetic-restarts.jpg" | cnn-info | tail -1 | awk '{print $3}')" = 3x32x48 ]
	# 239 bytes claiming 16000 x 16000: libjpeg's arithmetic decoder reads
	# zeros past the marker without a word, so the scan's end is watched.
	# It decoded 285 MB of rows before; 100 MB of address space are plenty.
	if [ -n "$CNN_SANITIZE" ]; then
		run cnn-load "$R/arith-cut-claims-16000x16000.jpg"
	else
		run bash -c "ulimit -v 100000; cnn-load '$R/arith-cut-claims-16000x16000.jpg'"
	fi
	assert_error cnn-load 'JPEG: premature end of data$'
}
