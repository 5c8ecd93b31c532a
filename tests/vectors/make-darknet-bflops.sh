#!/bin/sh
# Write darknet-bflops.txt: the BFLOPs Debian's darknet (pjreddie's 2018
# code) prints for each convolution of its detection cfgs, which
# cnn-summary's multiply-adds must match (2 x multiply-adds / 1e9, to the
# 3 decimals darknet prints; tests/bats/cnn-summary.bats).  Lines "CFG
# LAYER BFLOPS".  darknet builds each network (no weights) and then waits
# for an image path, which the empty standard input ends.
set -eu
cfgs=/usr/share/darknet/cfg
out=$(dirname "$0")/darknet-bflops.txt
: > "$out.tmp"
for name in yolov1-tiny yolov1 yolov2-tiny yolov2-tiny-voc yolov2 yolov2-voc yolov3-tiny yolov3 \
	yolov3-spp yolov3-openimages; do
	darknet detector test "$cfgs/coco.data" "$cfgs/$name.cfg" < /dev/null 2>&1 |
		awk -v n="$name" '$2 == "conv" && $NF == "BFLOPs" { print n, $1, $(NF - 1) }' >> "$out.tmp"
done
mv "$out.tmp" "$out"
wc -l "$out"
