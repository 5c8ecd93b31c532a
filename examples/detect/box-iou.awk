# The mean IoU of each image's one detected box with its one true box,
# and how often the class is right: the first file the truths
# (cnn-boxes --to csv -f boxes_true), the second the detections (cnn-detect
# -s 0: one box an image), both "record,x1,y1,x2,y2,score,class".
BEGIN { FS = "," }
FNR == 1 { next }
NR == FNR { tx1[$1] = $2; ty1[$1] = $3; tx2[$1] = $4; ty2[$1] = $5; tc[$1] = $7; next }
{
	w = (($4 < tx2[$1]) ? $4 : tx2[$1]) - (($2 > tx1[$1]) ? $2 : tx1[$1])
	h = (($5 < ty2[$1]) ? $5 : ty2[$1]) - (($3 > ty1[$1]) ? $3 : ty1[$1])
	inter = (w > 0 && h > 0) ? w * h : 0
	union = ($4 - $2) * ($5 - $3) + (tx2[$1] - tx1[$1]) * (ty2[$1] - ty1[$1]) - inter
	iou = union > 0 ? inter / union : 0
	sum += iou; n++; right += $7 == tc[$1]; hit += iou >= 0.5
}
END {
	printf "images %d: mean box IoU %.4f, IoU >= 0.5 %.4f, class right %.4f\n",
	       n, sum / n, hit / n, right / n
}
