load helper

ZOO="$BATS_TEST_DIRNAME/../../examples/zoo"

@test "LeNet-5: per layer shape, parameters, multiply-adds, receptive field; then totals" {
	run cnn-summary "$ZOO/lenet5.cfg"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 10 ]
	[[ "${lines[0]}" == "layer  type"*"output CxHxW"*"parameters"*"multiply-adds"*"rf" ]]
	[ "$(echo ${lines[1]})" = "0 convolutional 6x28x28 156 117,600 5" ]
	[ "$(echo ${lines[3]})" = "2 convolutional 16x10x10 2,416 240,000 14" ]
	[ "$(echo ${lines[5]})" = "4 connected 120x1x1 48,120 48,000 32" ]
	[ "$(echo ${lines[8]})" = "7 softmax 10x1x1 0 0 32" ]
	[ "${lines[9]}" = "$ZOO/lenet5.cfg: 61,706 parameters, 0.42 M multiply-adds, input 1x28x28" ]
}

@test "-q prints only the totals, one line per file" {
	run cnn-summary -q "$ZOO/lenet5.cfg" "$ZOO/fashion_bn.cfg"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == "$ZOO/fashion_bn.cfg: 468,138 parameters, 18.73 M multiply-adds, input 1x28x28" ]]
}

@test "--input HxW and CxHxW rebuild at another size; connected layers follow" {
	run cnn-summary -q -i 32x32 "$ZOO/lenet5.cfg"
	[ "$output" = "$ZOO/lenet5.cfg: 82,826 parameters, 0.59 M multiply-adds, input 1x32x32" ]
	run cnn-summary -i 3x32x32 "$ZOO/lenet5.cfg"
	[ "$(echo ${lines[1]})" = "0 convolutional 6x32x32 456 460,800 5" ]
}

@test "--input keeps the cfg's line numbers and adds keys [net] lacks" {
	printf '[net]\nheight=8\nwidth=8\nchannels=1\n\n[maxpool]\nsize=2\n[rnn]\n' > "$TMP/a.cfg"
	run cnn-summary -i 2x4x4 "$TMP/a.cfg"
	assert_error cnn-summary "^cnn-summary: $TMP/a.cfg:8: unsupported section \[rnn\]$"
	printf '[net]\n[maxpool]\nsize=2\nstride=2\n' > "$TMP/b.cfg"
	run cnn-summary -q -i 3x6x4 "$TMP/b.cfg"
	[ "$output" = "$TMP/b.cfg: 0 parameters, 0.00 M multiply-adds, input 3x6x4" ]
}

@test "a model file is summarised from the cfg it holds" {
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz |
		cnn-head -n 64 | cnn-train -m "$ZOO/lenet5.cfg" -o "$TMP/m.cnnm" -e 1 > /dev/null
	run cnn-summary -q "$TMP/m.cnnm"
	[ "$output" = "$TMP/m.cnnm: 61,706 parameters, 0.42 M multiply-adds, input 1x28x28" ]
	run cnn-summary -q -i 32x32 "$TMP/m.cnnm"
	[[ "$output" == *": 82,826 parameters, "* ]]
}

@test "a file that fails is reported in one line; the others are still summarised" {
	printf '[net]\nchannels=1\nheight=8\nwidth=8\n\n[convolutional]\nfilters=2\n\n[rnn]\noutput=2\n' > "$TMP/y.cfg"
	run cnn-summary -q "$TMP/y.cfg"
	assert_error cnn-summary "^cnn-summary: $TMP/y.cfg:9: unsupported section \[rnn\]$"
	run cnn-summary -q "$TMP/y.cfg" "$ZOO/lenet5.cfg"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "cnn-summary: $TMP/y.cfg:9: unsupported section [rnn]" ]
	[[ "${lines[1]}" == "$ZOO/lenet5.cfg: 61,706 parameters, "* ]]
}

@test "errors: a missing file, a stream that is not a model, a bad key" {
	run cnn-summary "$TMP/none.cfg"
	assert_error cnn-summary "none.cfg: No such file"
	notes_image | cnn-load --text - > "$TMP/x.cnn"
	run cnn-summary "$TMP/x.cnn"
	assert_error cnn-summary "x.cnn: not a model file"
	printf '[net]\nchannels=1\nheight=8\nwidth=8\n[convolutional]\nfilter=2\n' > "$TMP/k.cfg"
	run cnn-summary "$TMP/k.cfg"
	assert_error cnn-summary "k.cfg:6: unknown key 'filter' in \[convolutional\]$"
}

# A small residual net whose shortcut and route refer to the first layer
# by name; numbered() writes it with darknet's numbers and no names.
named() {
	printf '[net]\nbatch=16\nchannels=1\nheight=28\nwidth=28\n\n'
	printf '[convolutional]\nname=stem\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=relu\n\n'
	printf '[convolutional]\nfilters=4\nsize=3\npad=1\nactivation=relu\n\n'
	printf '[shortcut]\nname=block.1-out\nfrom=stem\n\n'
	printf '[convolutional]\nname=_branch\nfilters=2\nsize=1\nactivation=relu\n\n'
	printf '[route]\nlayers=-1,stem\n\n'
	printf '[maxpool]\nsize=2\nstride=2\n\n[connected]\noutput=10\nactivation=linear\n\n[softmax]\n'
}
numbered() {
	named | sed -e '/^name=/d' -e 's/^from=stem$/from=-2/' -e 's/^layers=-1,stem$/layers=-1,0/'
}

@test "layer names: a name column when a layer has one; names refer as numbers do" {
	named > "$TMP/named.cfg"
	numbered > "$TMP/numbered.cfg"
	run cnn-summary "$TMP/named.cfg"
	[ "$status" -eq 0 ]
	[ "$(echo ${lines[0]})" = "layer type name output CxHxW parameters multiply-adds rf" ]
	[ "$(echo ${lines[1]})" = "0 convolutional stem 4x14x14 40 7,056 3" ]
	[ "$(echo ${lines[3]})" = "2 shortcut block.1-out 4x14x14 0 784 7" ]
	[ "$(echo ${lines[5]})" = "4 route 6x14x14 0 0 7" ]
	# the same network: the same columns but the names, the same totals
	cnn-summary "$TMP/named.cfg" | cut -c 1-23,36- | sed '$d' > "$TMP/a.txt"
	cnn-summary "$TMP/numbered.cfg" | sed '$d' > "$TMP/b.txt"
	diff "$TMP/a.txt" "$TMP/b.txt"
	# and the same numbers: trained from one seed, both predict alike
	cnn-load $FASHION/t10k-images-idx3-ubyte.gz $FASHION/t10k-labels-idx1-ubyte.gz |
		cnn-head -n 64 > "$TMP/64.cnn"
	for n in named numbered; do
		cnn-train -m "$TMP/$n.cfg" -o "$TMP/$n.cnnm" -e 1 "$TMP/64.cnn" > /dev/null
		cnn-predict -m "$TMP/$n.cnnm" "$TMP/64.cnn" | cnn-save -f probabilities -o "$TMP/$n.txt"
	done
	cmp "$TMP/named.txt" "$TMP/numbered.txt"
}

@test "layer names: taken, malformed, or not an earlier layer's, are cfg errors naming the line" {
	named | sed 's/^name=_branch$/name=stem/' > "$TMP/a.cfg"
	run cnn-summary "$TMP/a.cfg"
	assert_error cnn-summary "^cnn-summary: $TMP/a.cfg:25: \[convolutional\]: name=stem is taken by layer 0 \(line 7\)$"
	for bad in 2nd 'a b' 'conv#1' ''; do
		named | sed "s/^name=_branch\$/name=$bad/" > "$TMP/b.cfg"
		run cnn-summary "$TMP/b.cfg"
		assert_error cnn-summary "^cnn-summary: $TMP/b.cfg:25: \[convolutional\]: name=$bad: want a letter or _, then letters, digits, _, . or -$"
	done
	named | sed 's/^layers=-1,stem$/layers=-1,Stem/' > "$TMP/c.cfg"
	run cnn-summary "$TMP/c.cfg"
	assert_error cnn-summary "^cnn-summary: $TMP/c.cfg:31: \[route\]: layers=-1,Stem: Stem is not the name of an earlier layer$"
	named | sed 's/^from=stem$/from=_branch/' > "$TMP/d.cfg"
	run cnn-summary "$TMP/d.cfg"
	assert_error cnn-summary "d.cfg:21: \[shortcut\]: from=_branch is not the name of an earlier layer$"
	named | sed 's/^from=stem$/from=stem,-1/' > "$TMP/e.cfg"
	run cnn-summary "$TMP/e.cfg"
	assert_error cnn-summary "e.cfg:21: \[shortcut\]: from=stem,-1: at most 1 layer$"
	named | sed 's/^from=stem$/from=-9/' > "$TMP/f.cfg"
	run cnn-summary "$TMP/f.cfg"
	assert_error cnn-summary "f.cfg:21: \[shortcut\]: from=-9 is not an earlier layer$"
	printf '[net]\nname=n\nchannels=1\nheight=8\nwidth=8\n[maxpool]\n' > "$TMP/g.cfg"
	run cnn-summary "$TMP/g.cfg"
	assert_error cnn-summary "g.cfg:2: unknown key 'name' in \[net\]$"
}

@test "usage errors exit 2" {
	run cnn-summary
	[ "$status" -eq 2 ]
	run cnn-summary -i 64 "$ZOO/lenet5.cfg"
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "cnn-summary: --input: '64' is not HxW or CxHxW" ]]
	run cnn-summary -i 0x8 "$ZOO/lenet5.cfg"
	[ "$status" -eq 2 ]
}

# tests/vectors/make-darknet-bflops.sh: what darknet prints for each
# convolution of its detection cfgs, 2 x multiply-adds / 1e9 to 3 decimals.
@test "darknet's detection cfgs, yolov1 to yolov3: every convolution's multiply-adds as darknet's BFLOPs" {
	local V="$BATS_TEST_DIRNAME/../vectors/darknet-bflops.txt" name compared=0
	for name in $(awk '{ print $1 }' "$V" | uniq); do
		cnn-summary "/usr/share/darknet/cfg/$name.cfg" |
			awk -v n="$name" '$1 ~ /^[0-9]+$/ && $2 == "convolutional" {
				gsub(",", "", $5); printf "%s %d %.3f\n", n, $1, 2 * $5 / 1e9 }' > "$TMP/ours"
		grep "^$name " "$V" > "$TMP/theirs"
		diff "$TMP/ours" "$TMP/theirs"
		compared=$((compared + $(wc -l < "$TMP/theirs")))
	done
	[ "$compared" -eq 335 ]
}
